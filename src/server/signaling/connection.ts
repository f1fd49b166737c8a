// One signaling socket from authentication to close. The first frame must be `auth` with a
// valid access token; until then nothing is relayed. The sender of every relayed frame is the
// token's user, never a field of the frame. Every failure answers with an error frame or a
// close code and reason; none can throw out of here.
import type { RawData } from 'ws';
import type { FastifyBaseLogger } from 'fastify';
import {
  CLOSE,
  WireError,
  decodeBase64url,
  clientFrame,
  exactRelayFrame,
  isNormalUsername,
  normalizeUsername,
  parseJson,
  parseWith,
  SEND_MANY_MAX_ITEMS,
  ACK_MAX_IDS,
  type ClientFrame,
  type ErrorCode,
  type ServerFrame,
} from '../../wire/index.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { Bus, Endpoint } from '../bus/types.ts';
import type { QueueStore } from '../store/types.ts';
import type { FindUser, UserRef } from './user-lookup.ts';
import type { Deadlines, Expiring } from './deadlines.ts';
import type { BlockCache } from '../contacts/block-cache.ts';
import type { QueueService } from '../queue/queue-service.ts';
import { QueueDelivery } from '../queue/delivery.ts';
import type { Presence } from '../contacts/presence.ts';
import type { RelaySocket, SocketHandler } from './relay-socket.ts';
import { deviceAddress, type DeviceRouter } from '../devices/device-router.ts';
import type { DeviceService } from '../devices/device-service.ts';

export interface SignalingLimits {
  authTimeoutMs: number;
  framesPerSecond: number;
  frameBurst: number;
  /** Rate-limited frames tolerated before the socket is closed with 1008. */
  maxViolations: number;
}

export interface ConnectionDeps {
  tokens: AccessTokens;
  /** Who a username belongs to (cached: user-lookup.ts). */
  findUser: FindUser;
  bus: Bus;
  queue: QueueStore;
  queueService: QueueService;
  presence: Presence;
  /** Every linked browser of an account, for what concerns the person (presence). */
  router: Pick<DeviceRouter, 'isOnline'>;
  devices: Pick<DeviceService, 'connected'>;
  /** Whether `ownerId` has blocked `otherId` (cached: block-cache.ts); a blocked sender's frames are dropped, silently. */
  blocks: Pick<BlockCache, 'known' | 'blocks' | 'warm'>;
  log: FastifyBaseLogger;
  limits: SignalingLimits;
  /** Called for each signaling frame handed to its recipient (the frames-relayed metric). */
  onRelay?: () => void;
  /** Called for each envelope accepted into the offline queue. */
  onEnvelope?: () => void;
}

/** Frames of one connection waiting for the ones before them to be handled. */
const MAX_WAITING_FRAMES = 64;

/** Same words for "no such user" and "not connected": the relay must not reveal who exists. */
const unavailable = (name: string) => `${name} is not available right now. They may be offline, or the name may be mistyped.`;

// A relay holds tens of thousands of idle sockets, so what each one costs is counted: the state
// of a connection is one object whose methods live on its prototype, and its socket hands events
// to it directly (relay-socket.ts) rather than through closures and timers per socket
// (bench:signaling heap snapshots, issue #5).

/** The normal form of a username as typed, or undefined if it cannot be one. */
function targetName(raw: string): string | undefined {
  // Most names arrive already in normal form; they need no fold and no result object.
  if (isNormalUsername(raw)) return raw;
  const folded = normalizeUsername(raw);
  return folded.ok ? folded.username : undefined;
}

/** What every connection of one server shares: its dependencies and the server's deadlines. */
export type ConnectionContext = ConnectionDeps & { deadlines: Deadlines };

export function handleConnection(ws: RelaySocket, deps: ConnectionContext): void {
  const connection = new Connection(ws, deps);
  ws.handler = connection;
  deps.deadlines.set(connection, Date.now() + deps.limits.authTimeoutMs);
}

/** One socket's state, and its Endpoint on the bus once authenticated. */
class Connection implements Endpoint, Expiring, SocketHandler {
  user: UserRef | undefined;
  /** Which of the account's browsers this socket is (issue #17); device "1" for a v1 browser. */
  device = '1';
  /** Its bus address: the user id for browser 1, `user:device` for others. */
  private address = '';
  private attached = false;
  private delivery: QueueDelivery | undefined;
  private violations = 0;
  /** A well-formed `auth` frame arrived (its check may still be running). */
  private authSeen = false;
  private open = true;
  // The frame rate limit: a token bucket in two fields of this object (an object of its own per
  // socket cost 64 bytes more on each of tens of thousands of sockets).
  private tokens: number;
  private lastTake: number;
  private chain: Promise<void> | undefined;
  private waiting = 0;
  // The last recipient this socket named: a call sends dozens of frames to one peer, and a
  // name's owner never changes (accounts are never renamed or deleted), so the next frame to the
  // same name skips the lookup in the process-wide map (1.6 % of the relay's time at saturation).
  private lastRecipient: UserRef | undefined = undefined;
  deadlineSecond = 0;

  constructor(
    readonly ws: RelaySocket,
    readonly deps: ConnectionContext,
  ) {
    this.tokens = deps.limits.frameBurst;
    this.lastTake = performance.now();
  }

  /** Endpoint: an already-serialised frame for this socket. */
  send(text: string): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
  }

  sendFrame(frame: ServerFrame): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private sendError(code: ErrorCode, message: string, callId?: string): void {
    this.sendFrame(callId ? { type: 'error', code, message, callId } : { type: 'error', code, message });
  }

  close(code: number, reason: string): void {
    const ws = this.ws;
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
  }

  /** Endpoint: new envelopes wait in the offline queue. */
  onQueue(): void {
    if (!this.user || !this.open) return;
    const delivery = (this.delivery ??= new QueueDelivery(this.deps.queue, this.user.id, this, this.deps.queueService.limits.maxAgeMs, this.device));
    delivery.pump().then(
      () => {
        // Most sockets have nothing queued most of the time; an idle delivery holds nothing
        // that a new one would not find again in the store, so it is not kept per socket.
        if (this.delivery === delivery && delivery.idle) this.delivery = undefined;
      },
      (e: unknown) => this.deps.log.error({ err: e }, 'queue delivery failed'),
    );
  }

  /** Expiring: the authentication timeout before `auth`, the token's expiry after. */
  expire(): void {
    // Closing at expiry means a revoked or stolen token cannot keep a socket alive forever.
    if (this.user) this.close(CLOSE.tokenExpired, 'access token expired');
    else this.close(CLOSE.authTimeout, 'authentication timed out');
  }

  private async authenticate(token: string, device = '1'): Promise<void> {
    const { deps } = this;
    const result = await deps.tokens.verify(token);
    if (!this.open) return;
    if (!result.ok) {
      const expired = result.reason === 'expired';
      this.sendError(expired ? 'token_expired' : 'unauthorized', expired ? 'Your session expired. Please log in again.' : 'Not signed in.');
      return this.close(CLOSE.authFailed, expired ? 'token expired' : 'invalid token');
    }
    const { userId, username, expiresAt } = result.claims;
    if (this.user) {
      // A fresh token on an open socket extends it; it may not switch accounts or browsers.
      if (this.user.id !== userId || this.device !== device) this.close(CLOSE.policy, 'token belongs to another user');
      else this.deps.deadlines.set(this, expiresAt);
      return;
    }
    // An unlinked browser is told to wipe its keys; one the account never had is just refused.
    const linked = await deps.devices.connected(userId, device);
    if (!this.open) return;
    if (linked !== 'ok') {
      if (linked === 'unlinked') this.sendFrame({ type: 'unlinked' });
      else this.sendError('forbidden', 'This browser is not linked to your account.');
      return this.close(CLOSE.unlinked, 'browser not linked');
    }
    this.device = device;
    this.address = deviceAddress(userId, device);
    // The name and id are the verified token's: the process's name cache keeps them, so whoever
    // calls this user next finds them without a store lookup, and this socket holds the cache's
    // object rather than a copy of its own.
    const me = (this.user = deps.findUser.remember({ id: userId, username }));
    this.deps.deadlines.set(this, expiresAt);
    // `ready` only once other processes can route to this socket: a client that hears it may
    // tell a contact to call, and that call must find it.
    await deps.bus.attach(this.address, this, CLOSE.replaced);
    if (!this.open) return deps.bus.detach(this.address, this);
    this.attached = true;
    const { framesPerSecond, frameBurst } = deps.limits;
    const queued = await deps.queue.waiting(userId, device).catch(() => undefined);
    if (!this.open) return;
    this.sendFrame({ type: 'ready', user: me, device, limits: { framesPerSecond, frameBurst, sendMany: SEND_MANY_MAX_ITEMS, ack: ACK_MAX_IDS }, ...(queued === undefined ? {} : { queued }) });
    this.onQueue();
    // Their block list is read now, while sockets arrive at the pace of TLS handshakes, rather
    // than on the first frame sent to them. With PostgreSQL, 10,000 first frames at once
    // otherwise queued 20,000 name and block lookups on the pool, past its 5 s wait
    // (bench:signaling).
    deps.blocks.warm(userId).catch((e: unknown) => deps.log.error({ err: e }, 'reading the block list failed'));
    void (async () => {
      for (const frame of await deps.presence.snapshot(me.id)) this.sendFrame(frame);
      await deps.presence.announce(me, true);
    })().catch((e: unknown) => deps.log.error({ err: e }, 'presence on connect failed'));
  }

  /** Each item as if it came alone, one after another: answers in the order of the items. */
  private async enqueueMany(frame: Extract<ClientFrame, { type: 'send-many' }>): Promise<void> {
    for (const item of frame.items) await this.enqueue({ type: 'send', ...item });
  }

  private async enqueue(frame: Extract<ClientFrame, { type: 'send' }>): Promise<void> {
    try {
      await this.deps.queueService.accept({ ...this.user!, device: this.device }, frame.to, frame.toDevice ?? '1', frame.id, decodeBase64url(frame.body)!);
      this.deps.onEnvelope?.();
      this.sendFrame({ type: 'sent', id: frame.id });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      this.sendFrame({ type: 'error', code: e.code, message: e.message, id: frame.id });
    }
  }

  // Relayed frames take the short way when everything they need is known in this process: the
  // recipient's id, whether they block the sender, and their socket. Then the frame is handed on
  // before this method returns, with no promise in between; otherwise the same checks are
  // awaited. Both ways answer alike: true if the recipient's connection was handed the frame.
  // Someone who blocked the sender looks exactly like someone offline.
  private handOn(name: string, device: string, text: string): true | Promise<boolean> {
    const { deps } = this;
    const me = this.user!;
    const last = this.lastRecipient;
    const known = last !== undefined && last.username === name ? last : deps.findUser.known(name);
    if (known) {
      this.lastRecipient = known;
      if (deps.blocks.known(known.id, me.id) === false && deps.bus.deliverHere(deviceAddress(known.id, device), text)) return true;
    }
    return (async () => {
      const recipient = known ?? (await deps.findUser(name));
      if (!recipient || (await deps.blocks.blocks(recipient.id, me.id))) return false;
      return deps.bus.deliver(deviceAddress(recipient.id, device), text);
    })();
  }

  private relay(frame: Extract<ClientFrame, { type: 'signal' }>): void | Promise<void> {
    const me = this.user!;
    const name = targetName(frame.to);
    if (name === undefined) return this.sendError('peer_unavailable', unavailable(frame.to.slice(0, 32)), frame.callId);
    const toDevice = frame.toDevice ?? '1';
    if (name === me.username && toDevice === this.device) return this.sendError('bad_request', 'You cannot call yourself.', frame.callId);
    const text = JSON.stringify({ type: 'signal', from: me.username, fromDevice: this.device, callId: frame.callId, data: frame.data } satisfies ServerFrame);
    const handed = this.handOn(name, toDevice, text);
    if (handed === true) return this.deps.onRelay?.();
    return handed.then((delivered) => {
      if (delivered) this.deps.onRelay?.();
      else this.sendError('peer_unavailable', unavailable(name), frame.callId);
    });
  }

  private transient(frame: Extract<ClientFrame, { type: 'transient' }>): void | Promise<void> {
    const me = this.user!;
    const name = targetName(frame.to);
    const toDevice = frame.toDevice ?? '1';
    if (name === undefined || (name === me.username && toDevice === this.device)) return;
    // Never stored, never answered: delivered if the recipient is there and allows it, else dropped.
    const handed = this.handOn(name, toDevice, JSON.stringify({ type: 'transient', from: me.username, fromDevice: this.device, body: frame.body } satisfies ServerFrame));
    if (handed !== true) return handed.then(() => undefined);
  }

  private refuseUnauthenticated(): void {
    this.sendError('unauthorized', 'Authenticate first.');
    this.close(CLOSE.policy, 'not authenticated');
  }

  private onFrame(frame: ClientFrame): void | Promise<void> {
    if (frame.type === 'auth') return this.authenticate(frame.token, frame.device);
    if (!this.user) return this.refuseUnauthenticated();
    switch (frame.type) {
      case 'ping':
        return this.sendFrame({ type: 'pong' });
      case 'signal':
        return this.relay(frame);
      case 'send':
        return this.enqueue(frame);
      case 'send-many':
        return this.enqueueMany(frame);
      case 'ack':
        return this.ack(frame.qids);
      case 'transient':
        return this.transient(frame);
    }
  }

  private async ack(qids: number[]): Promise<void> {
    // Acknowledged envelopes are deleted even if this socket's delivery has gone idle since
    // (an ack may come after a reconnect, for envelopes an earlier socket delivered).
    if (this.delivery) return this.delivery.ack(qids);
    await this.deps.queue.ack(this.user!.id, qids, this.device);
  }

  private failed(e: unknown): void {
    this.deps.log.error({ err: e }, 'signaling frame handler failed');
    this.sendError('internal', 'Something went wrong on the server.');
  }

  // One connection's frames are handled one after another, in the order they came. A frame
  // that arrives while none waits is handled at once; if its handler has to wait (on the store,
  // on the bus: with PostgreSQL and Redis their answers come back in any order), the frames
  // after it wait in line behind it, so an ICE candidate never overtakes its offer, nor a ping
  // the ack before it. The token bucket bounds how fast the line grows; the cap bounds how long
  // it gets while the store is slow.
  private inOrder(frame: ClientFrame): void {
    if (this.waiting >= MAX_WAITING_FRAMES) return this.sendError('rate_limited', 'The server is busy with your earlier messages. Try again shortly.');
    let pending: void | Promise<void>;
    if (this.waiting > 0) {
      pending = this.chain!.then(() => this.onFrame(frame));
    } else {
      try {
        pending = this.onFrame(frame);
      } catch (e) {
        return this.failed(e);
      }
      if (!pending) return;
    }
    this.waiting++;
    this.chain = pending.then(
      () => this.settled(),
      (e: unknown) => {
        this.settled();
        this.failed(e);
      },
    );
  }

  /**
   * `framesPerSecond` frames a second on average, bursts up to `frameBurst`: ICE gathering sends
   * a dozen candidates at once, so the burst is generous; a flood is not.
   */
  private takeToken(): boolean {
    const { framesPerSecond, frameBurst } = this.deps.limits;
    const now = performance.now();
    this.tokens = Math.min(frameBurst, this.tokens + ((now - this.lastTake) / 1000) * framesPerSecond);
    this.lastTake = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private settled(): void {
    // Nothing waits any more: let the settled promise go rather than keep it per socket.
    if (--this.waiting === 0) this.chain = undefined;
  }

  onMessage(data: RawData, isBinary: boolean): void {
    if (!this.takeToken()) {
      this.violations++;
      if (this.violations > this.deps.limits.maxViolations) return this.close(CLOSE.policy, 'too many frames');
      return this.sendError('rate_limited', 'You are sending too fast. Slow down.');
    }
    // Before a valid `auth` frame, anything else ends the socket at once: a client that starts
    // with something else is not Parley, and need not hold a socket until the auth timeout.
    if (isBinary) return this.authSeen ? this.sendError('bad_request', 'Frames must be JSON text.') : this.refuseUnauthenticated();
    const json = parseJson(data.toString());
    const exact = exactRelayFrame(json);
    if (exact) return this.inOrder(exact);
    const parsed = parseWith(clientFrame, json);
    if (!parsed.ok) return this.authSeen ? this.sendError('bad_request', `Malformed frame: ${parsed.message}`) : this.refuseUnauthenticated();
    if (parsed.value.type === 'auth') this.authSeen = true;
    this.inOrder(parsed.value);
  }

  onError(e: Error): void {
    this.deps.log.debug({ err: e }, 'signaling socket error');
  }

  onClose(): void {
    this.open = false;
    this.ws.handler = undefined;
    this.deps.deadlines.clear(this);
    this.delivery?.close();
    if (this.attached) this.deps.bus.detach(this.address, this);
    const me = this.user;
    if (!me) return;
    const { deps } = this;
    // A newer connection of the same user (another tab, a reconnect) keeps them online.
    void (async () => {
      if (!(await deps.router.isOnline(me.id))) await deps.presence.announce(me, false);
    })().catch((e: unknown) => deps.log.error({ err: e }, 'presence on disconnect failed'));
  }
}
