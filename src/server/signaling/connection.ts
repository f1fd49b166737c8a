// One signaling socket from authentication to close. The first frame must be `auth` with a
// valid access token; until then nothing is relayed. The sender of every relayed frame is the
// token's user, never a field of the frame. Every failure answers with an error frame or a
// close code and reason; none can throw out of here.
import type { WebSocket, RawData } from 'ws';
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
  type ClientFrame,
  type ErrorCode,
  type ServerFrame,
} from '../../wire/index.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { Bus, Attachment } from '../bus/types.ts';
import type { QueueStore } from '../store/types.ts';
import type { FindUser } from './user-lookup.ts';
import type { BlockCache } from '../contacts/block-cache.ts';
import type { QueueService } from '../queue/queue-service.ts';
import { QueueDelivery } from '../queue/delivery.ts';
import type { Presence } from '../contacts/presence.ts';
import { TokenBucket } from './token-bucket.ts';

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
  /** Whether `ownerId` has blocked `otherId` (cached: block-cache.ts); a blocked sender's frames are dropped, silently. */
  blocks: Pick<BlockCache, 'known' | 'blocks'>;
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

export function handleConnection(ws: WebSocket, deps: ConnectionDeps): void {
  const { tokens, findUser, bus, log, limits } = deps;
  let user: { id: string; username: string } | undefined;
  let attachment: Attachment | undefined;
  let expiryTimer: NodeJS.Timeout | undefined;
  let violations = 0;
  let open = true;
  let delivery: QueueDelivery | undefined;
  const bucket = new TokenBucket(limits.framesPerSecond, limits.frameBurst);

  const send = (frame: ServerFrame) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
  };
  const sendError = (code: ErrorCode, message: string, callId?: string) =>
    send(callId ? { type: 'error', code, message, callId } : { type: 'error', code, message });
  const close = (code: number, reason: string) => {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
  };

  const authTimer = setTimeout(() => close(CLOSE.authTimeout, 'authentication timed out'), limits.authTimeoutMs);

  const armExpiry = (expiresAt: number) => {
    clearTimeout(expiryTimer);
    // Closing at expiry means a revoked or stolen token cannot keep a socket alive forever.
    expiryTimer = setTimeout(() => close(CLOSE.tokenExpired, 'access token expired'), Math.max(0, expiresAt - Date.now()));
  };

  const authenticate = async (token: string) => {
    const result = await tokens.verify(token);
    if (!open) return;
    if (!result.ok) {
      const expired = result.reason === 'expired';
      sendError(expired ? 'token_expired' : 'unauthorized', expired ? 'Your session expired. Please log in again.' : 'Not signed in.');
      close(CLOSE.authFailed, expired ? 'token expired' : 'invalid token');
      return;
    }
    const { userId, username, expiresAt } = result.claims;
    if (user) {
      // A fresh token on an open socket extends it; it may not switch accounts.
      if (user.id !== userId) close(CLOSE.policy, 'token belongs to another user');
      else armExpiry(expiresAt);
      return;
    }
    clearTimeout(authTimer);
    user = { id: userId, username };
    delivery = new QueueDelivery(deps.queue, userId, send, deps.queueService.limits.maxAgeMs);
    const pump = () => void delivery?.pump().catch((e: unknown) => log.error({ err: e }, 'queue delivery failed'));
    armExpiry(expiresAt);
    // `ready` only once other processes can route to this socket: a client that hears it may
    // tell a contact to call, and that call must find it.
    const attached = await bus.attach(userId, { send: (text) => ws.readyState === ws.OPEN && ws.send(text), close, onQueue: pump }, CLOSE.replaced);
    if (!open) return attached.detach();
    attachment = attached;
    send({ type: 'ready', user });
    pump();
    const me = user;
    void (async () => {
      for (const frame of await deps.presence.snapshot(me.id)) send(frame);
      await deps.presence.announce(me, true);
    })().catch((e: unknown) => log.error({ err: e }, 'presence on connect failed'));
  };

  const enqueue = async (frame: Extract<ClientFrame, { type: 'send' }>) => {
    if (!user) return;
    try {
      await deps.queueService.accept(user, frame.to, frame.id, decodeBase64url(frame.body)!);
      deps.onEnvelope?.();
      send({ type: 'sent', id: frame.id });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      send({ type: 'error', code: e.code, message: e.message, id: frame.id });
    }
  };

  // Relayed frames take the short way when everything they need is known in this process: the
  // recipient's id, whether they block the sender, and their socket. Then the frame is handed on
  // before this function returns, with no promise in between; otherwise the same checks are
  // awaited. Both ways answer alike.
  const relay = (frame: Extract<ClientFrame, { type: 'signal' }>): void | Promise<void> => {
    const me = user!;
    const target = isNormalUsername(frame.to) ? { ok: true as const, username: frame.to } : normalizeUsername(frame.to);
    if (!target.ok) return sendError('peer_unavailable', unavailable(frame.to.slice(0, 32)), frame.callId);
    if (target.username === me.username) return sendError('bad_request', 'You cannot call yourself.', frame.callId);
    const text = JSON.stringify({ type: 'signal', from: me.username, callId: frame.callId, data: frame.data } satisfies ServerFrame);
    const known = findUser.known(target.username);
    if (known && deps.blocks.known(known.id, me.id) === false && bus.deliverHere(known.id, text)) {
      deps.onRelay?.();
      return;
    }
    return (async () => {
      const recipient = known ?? (await findUser(target.username));
      // Someone who blocked the caller looks exactly like someone offline.
      const blocked = recipient ? await deps.blocks.blocks(recipient.id, me.id) : false;
      const delivered = recipient && !blocked ? await bus.deliver(recipient.id, text) : false;
      if (!delivered) return sendError('peer_unavailable', unavailable(target.username), frame.callId);
      deps.onRelay?.();
    })();
  };

  const transient = (frame: Extract<ClientFrame, { type: 'transient' }>): void | Promise<void> => {
    const me = user!;
    const target = normalizeUsername(frame.to);
    if (!target.ok || target.username === me.username) return;
    // Never stored, never answered: delivered if the recipient is there and allows it, else dropped.
    const text = JSON.stringify({ type: 'transient', from: me.username, body: frame.body } satisfies ServerFrame);
    const known = findUser.known(target.username);
    if (known && deps.blocks.known(known.id, me.id) === false && bus.deliverHere(known.id, text)) return;
    return (async () => {
      const recipient = known ?? (await findUser(target.username));
      if (!recipient || (await deps.blocks.blocks(recipient.id, me.id))) return;
      await bus.deliver(recipient.id, text);
    })();
  };

  const onFrame = (frame: ClientFrame): void | Promise<void> => {
    if (frame.type === 'auth') return authenticate(frame.token);
    if (!user) {
      sendError('unauthorized', 'Authenticate first.');
      return close(CLOSE.policy, 'not authenticated');
    }
    switch (frame.type) {
      case 'ping':
        return send({ type: 'pong' });
      case 'signal':
        return relay(frame);
      case 'send':
        return enqueue(frame);
      case 'ack':
        return delivery?.ack(frame.qids);
      case 'transient':
        return transient(frame);
    }
  };

  // One connection's frames are handled one after another, in the order they came. A frame
  // that arrives while none waits is handled at once; if its handler has to wait (on the store,
  // on the bus: with PostgreSQL and Redis their answers come back in any order), the frames
  // after it wait in line behind it, so an ICE candidate never overtakes its offer, nor a ping
  // the ack before it. The token bucket bounds how fast the line grows; the cap bounds how long
  // it gets while the store is slow.
  let chain: Promise<void> = Promise.resolve();
  let waiting = 0;
  const failed = (e: unknown) => {
    log.error({ err: e }, 'signaling frame handler failed');
    sendError('internal', 'Something went wrong on the server.');
  };
  const done = () => {
    waiting--;
  };
  const inOrder = (frame: ClientFrame) => {
    if (waiting >= MAX_WAITING_FRAMES) return sendError('rate_limited', 'The server is busy with your earlier messages. Try again shortly.');
    if (waiting > 0) {
      waiting++;
      chain = chain.then(() => onFrame(frame)).catch(failed).finally(done);
      return;
    }
    let pending: void | Promise<void>;
    try {
      pending = onFrame(frame);
    } catch (e) {
      return failed(e);
    }
    if (!pending) return;
    waiting++;
    chain = pending.catch(failed).finally(done);
  };

  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (!bucket.take()) {
      violations++;
      if (violations > limits.maxViolations) return close(CLOSE.policy, 'too many frames');
      return sendError('rate_limited', 'You are sending too fast. Slow down.');
    }
    if (isBinary) return sendError('bad_request', 'Frames must be JSON text.');
    const json = parseJson(data.toString());
    const exact = exactRelayFrame(json);
    if (exact) return inOrder(exact);
    const parsed = parseWith(clientFrame, json);
    if (!parsed.ok) return sendError('bad_request', `Malformed frame: ${parsed.message}`);
    inOrder(parsed.value);
  });

  ws.on('error', (e) => {
    // ws reports oversized frames (1009) and protocol errors here; without this listener the
    // error would be thrown and take the whole process down.
    log.debug({ err: e }, 'signaling socket error');
  });

  ws.on('close', () => {
    open = false;
    clearTimeout(authTimer);
    clearTimeout(expiryTimer);
    delivery?.close();
    attachment?.detach();
    const me = user;
    if (me) {
      // A newer connection of the same user (another tab, a reconnect) keeps them online.
      void (async () => {
        if (!(await bus.isOnline(me.id))) await deps.presence.announce(me, false);
      })().catch((e: unknown) => log.error({ err: e }, 'presence on disconnect failed'));
    }
  });
}
