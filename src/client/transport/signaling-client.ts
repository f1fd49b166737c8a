// The browser's end of the signaling socket. Authenticates with the access token in the first
// frame (never in the URL, which ends up in logs), reconnects with exponential backoff and full
// jitter when the server goes away, and stops reconnecting when the server says this account
// connected elsewhere or logged out. Carries only signaling frames; it knows nothing of calls.
import { FramePacer } from './frame-pacer.ts';
import { CLOSE, SIGNALING_MAX_FRAME_BYTES, decodeBase64url, encodeBase64url, parseJson, parseWith, serverFrame, type ClientFrame, type SignalData } from '../../wire/index.ts';

export type SignalingState = 'offline' | 'connecting' | 'connected' | 'reconnecting' | 'elsewhere';

export interface SignalingEvents {
  state(state: SignalingState, detail?: string): void;
  /** `fromDevice`: which of the sender's browsers ("1" from a v1 browser or server). */
  signal(from: string, callId: string, data: SignalData, fromDevice: string): void;
  error(code: string, message: string, callId: string | undefined): void;
  /** An envelope from the offline queue; acknowledge it with `ack` once it is stored. */
  envelope(qid: number, from: string, body: Uint8Array, sentAt: number, fromDevice: string): void;
  /** The server refused our token (revoked by a password change, say). */
  authFailed(): void;
  /** Authenticated; `queued` envelopes wait for this browser (undefined: the server does not say). */
  ready?(queued: number | undefined): void;
  presence(user: string, online: boolean): void;
  transient(from: string, body: Uint8Array, fromDevice: string): void;
  /** `user` (a contact, or this account) has a new list of browsers. */
  devices(user: string): void;
  /** This browser was unlinked from its account: it must wipe its keys. */
  unlinked(): void;
}

export type EnqueueOutcome = { ok: true } | { ok: false; code: string; message: string };

const ENQUEUE_TIMEOUT_MS = 20_000;
/** A `send-many` frame's items, in bytes of JSON, under the server's frame limit (SIGNALING_MAX_FRAME_BYTES) with room to spare. */
const SEND_MANY_MAX_BYTES = SIGNALING_MAX_FRAME_BYTES - 2_048;
/** The server's defaults, until its `ready` says otherwise (an older server does not). */
const DEFAULT_LIMITS = { framesPerSecond: 20, frameBurst: 60 };

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 15_000;

export class SignalingClient {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private wanted = false;
  private current: SignalingState = 'offline';
  private readonly awaiting = new Map<string, (outcome: EnqueueOutcome | undefined) => void>();
  private pacer: FramePacer | undefined;
  /** Items per `send-many` this server takes (0: it takes none, an older server). */
  private sendMany = 0;
  /** qids per `ack` frame: what the server announced, or the 100 every server takes. */
  private ackMax = 100;

  constructor(
    private readonly url: string,
    private readonly getToken: () => Promise<string>,
    private readonly events: SignalingEvents,
    /** Which of the account's browsers this is (issue #17). */
    private readonly device = '1',
  ) {}

  get state(): SignalingState {
    return this.current;
  }

  connect(): void {
    this.wanted = true;
    clearTimeout(this.retryTimer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.open();
  }

  disconnect(): void {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    this.ws?.close(CLOSE.normal, 'bye');
    this.ws = undefined;
    this.setState('offline');
  }

  /**
   * Returns false when there is no authenticated socket to send on. Acknowledgements, a call's
   * signals and pings go in the pacer's urgent lane; a lone `send` may be merged with its
   * neighbours into a `send-many` if it has to wait.
   */
  send(frame: ClientFrame): boolean {
    if (this.current !== 'connected' || !this.ws || this.ws.readyState !== WebSocket.OPEN || !this.pacer) return false;
    const text = JSON.stringify(frame);
    if (frame.type === 'ack' || frame.type === 'signal' || frame.type === 'ping') this.pacer.sendUrgent(text);
    else if (frame.type === 'send') this.pacer.send(text, { to: frame.to, ...(frame.toDevice ? { toDevice: frame.toDevice } : {}), id: frame.id, body: frame.body });
    else this.pacer.send(text);
    return true;
  }

  /**
   * Hands an envelope to the server's offline queue. Resolves when the server says it holds
   * it (or refuses it); undefined when the socket went away or the server did not answer.
   */
  enqueue(to: string, id: string, body: Uint8Array, toDevice = '1'): Promise<EnqueueOutcome | undefined> {
    const frame: ClientFrame = toDevice === '1' ? { type: 'send', to, id, body: encodeBase64url(body) } : { type: 'send', to, toDevice, id, body: encodeBase64url(body) };
    if (!this.send(frame)) return Promise.resolve(undefined);
    return this.reply(id);
  }

  /**
   * Several envelopes at once (a group text's fan-out), in as few `send-many` frames as their
   * size allows where the server takes them, one `send` each where it does not. Each resolves
   * as `enqueue` would.
   */
  enqueueMany(items: ReadonlyArray<{ to: string; id: string; body: Uint8Array; toDevice?: string }>): Promise<Array<EnqueueOutcome | undefined>> {
    const max = this.sendMany;
    if (!max) return Promise.all(items.map((i) => this.enqueue(i.to, i.id, i.body, i.toDevice)));
    const wire = items.map((i) => ({ to: i.to, ...(i.toDevice && i.toDevice !== '1' ? { toDevice: i.toDevice } : {}), id: i.id, body: encodeBase64url(i.body) }));
    const replies = wire.map((w) => this.reply(w.id));
    let batch: typeof wire = [];
    let size = 0;
    const flush = () => {
      if (batch.length && !this.send({ type: 'send-many', items: batch })) for (const w of batch) this.awaiting.get(w.id)?.(undefined);
      batch = [];
      size = 0;
    };
    for (const w of wire) {
      const itemSize = w.body.length + w.to.length + w.id.length + 64;
      if (batch.length === max || size + itemSize > SEND_MANY_MAX_BYTES) flush();
      batch.push(w);
      size += itemSize;
    }
    flush();
    return Promise.all(replies);
  }

  /** The server's answer to the envelope `id`: stored, refused, or undefined (no answer in time, or the socket went). */
  private reply(id: string): Promise<EnqueueOutcome | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), ENQUEUE_TIMEOUT_MS);
      const settle = (outcome: EnqueueOutcome | undefined) => {
        clearTimeout(timer);
        this.awaiting.delete(id);
        resolve(outcome);
      };
      this.awaiting.get(id)?.(undefined);
      this.awaiting.set(id, settle);
    });
  }

  /** Relayed only if `to` is online now, never stored, never answered. */
  sendTransient(to: string, body: Uint8Array, toDevice = '1'): boolean {
    return this.send(toDevice === '1' ? { type: 'transient', to, body: encodeBase64url(body) } : { type: 'transient', to, toDevice, body: encodeBase64url(body) });
  }

  ack(qids: number[]): void {
    const per = this.ackMax;
    for (let i = 0; i < qids.length; i += per) this.send({ type: 'ack', qids: qids.slice(i, i + per) });
  }

  /** A refreshed token extends the open socket instead of reconnecting. */
  reauthenticate(token: string): void {
    if (this.current === 'connected') this.pacer?.send(JSON.stringify(this.authFrame(token)));
  }

  private authFrame(token: string): ClientFrame {
    return this.device === '1' ? { type: 'auth', token } : { type: 'auth', token, device: this.device };
  }

  private setState(state: SignalingState, detail?: string): void {
    this.current = state;
    this.events.state(state, detail);
  }

  private open(): void {
    this.setState(this.attempt === 0 ? 'connecting' : 'reconnecting');
    const ws = new WebSocket(this.url);
    this.ws = ws;
    const pacer = new FramePacer(DEFAULT_LIMITS, (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    });
    this.pacer = pacer;
    ws.onopen = () => {
      this.getToken().then(
        (token) => {
          if (ws.readyState !== WebSocket.OPEN) return;
          pacer.spend();
          ws.send(JSON.stringify(this.authFrame(token)));
        },
        () => ws.close(CLOSE.normal, 'no token'),
      );
    };
    ws.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      const parsed = parseWith(serverFrame, parseJson(event.data));
      if (!parsed.ok) return;
      const frame = parsed.value;
      switch (frame.type) {
        case 'ready':
          if (frame.limits) this.pacer?.setLimits(frame.limits, SEND_MANY_MAX_BYTES);
          this.sendMany = frame.limits?.sendMany ?? 0;
          this.ackMax = frame.limits?.ack ?? 100;
          this.attempt = 0;
          this.events.ready?.(frame.queued);
          this.setState('connected');
          break;
        case 'signal':
          this.events.signal(frame.from, frame.callId, frame.data, frame.fromDevice ?? '1');
          break;
        case 'error':
          if (frame.id && this.awaiting.has(frame.id)) this.awaiting.get(frame.id)!({ ok: false, code: frame.code, message: frame.message });
          else this.events.error(frame.code, frame.message, frame.callId);
          break;
        case 'sent':
          this.awaiting.get(frame.id)?.({ ok: true });
          break;
        case 'envelope':
          this.events.envelope(frame.qid, frame.from, decodeBase64url(frame.body)!, frame.sentAt, frame.fromDevice ?? '1');
          break;
        case 'presence':
          this.events.presence(frame.user, frame.online);
          break;
        case 'transient':
          this.events.transient(frame.from, decodeBase64url(frame.body)!, frame.fromDevice ?? '1');
          break;
        case 'devices':
          this.events.devices(frame.user);
          break;
        case 'unlinked':
          this.wanted = false;
          this.events.unlinked();
          break;
        case 'pong':
          break;
      }
    };
    ws.onclose = (event) => {
      pacer.clear();
      if (this.ws !== ws) return;
      this.ws = undefined;
      this.pacer = undefined;
      for (const settle of [...this.awaiting.values()]) settle(undefined);
      if (event.code === CLOSE.replaced) {
        this.wanted = false;
        this.setState('elsewhere', 'Parley was opened in another tab or window.');
        return;
      }
      if (event.code === CLOSE.authFailed) this.events.authFailed();
      if (event.code === CLOSE.loggedOut || !this.wanted) {
        this.wanted = false;
        this.setState('offline');
        return;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.attempt++;
    // Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): thousands of
    // clients dropped by one crashed process must not all return in the same instant.
    const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.attempt, 10));
    const delay = Math.random() * ceiling;
    this.setState('reconnecting');
    this.retryTimer = setTimeout(() => this.wanted && this.open(), delay);
  }
}
