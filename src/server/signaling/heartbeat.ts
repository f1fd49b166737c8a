// Finds sockets whose peer vanished without a FIN (a phone that lost its network, a laptop that
// went to sleep), so they stop counting as "online". Each socket gets a turn once per interval: it
// is pinged, or terminated if since its previous ping neither a pong nor any frame came from it.
//
// The pings are spread over the interval in small steps rather than sent in one loop: a ping on a
// TLS socket is an encryption and a write, and at 19,000 sockets one loop held the event loop for
// seconds every interval, stalling every relayed frame behind it (bench:signaling, issue #5).
// A step every 10 ms: with one every 100 ms, a step at 19,000 sockets sent 64 pings, each costing
// about what relaying a frame does (40 µs), so frames waited up to 2.5 ms ten times a second.
//
// A socket that both sent a frame and was sent one since its last turn, all of it gone out, is
// not pinged: the frame it sent shows its peer is there, and traffic went both ways, which is all
// a ping would add (keeping NAT mappings and proxies' read timeouts alive). During calls, when the
// relay is busiest, that is most sockets: at saturation the relay sent no pings at all. A peer
// that sends but does not read is still pinged (its unread frames pile up in our buffer), so it
// ends as a silent one does. Between two frames the server sends a socket, at most about two
// intervals pass.
export interface Pingable {
  readonly readyState: number;
  readonly OPEN: number;
  /** Bytes sent but not yet taken by the network. */
  readonly bufferedAmount: number;
  ping(): void;
  terminate(): void;
}

export interface HeartbeatOptions<S extends Pingable> {
  intervalMs: number;
  /** Every socket currently open, asked once per round. */
  sockets(): Iterable<S>;
  /** Steps per interval (default: one every 10 ms); each step pings about 1/steps of the sockets. */
  steps?: number;
  /** Milliseconds on a monotonic clock (tests pass their own). */
  now?: () => number;
}

export interface Heartbeat<S extends Pingable> {
  /** Call when a socket is accepted and when it answers a ping (frames: markHeard, markSpoke). */
  alive(socket: S): void;
  /** One step (what the timer calls; exposed for tests). */
  step(): void;
  stop(): void;
}

// What a socket did since its last turn, as bits of one small integer kept on the socket itself
// under a symbol: cheaper than a WeakMap entry per socket, and gone with the socket. Marked on
// every frame each way, so a bare bit set.
const STATE = Symbol('parley.heartbeat.state');
/** Answered its last ping (or is new). */
const ANSWERED = 1;
/** Sent us a frame. */
const HEARD = 2;
/** Was sent a frame. */
const SPOKE = 4;
type Marked = { [STATE]?: number };

/** The socket's peer sent a frame. */
export function markHeard(socket: object): void {
  const m = socket as Marked;
  m[STATE] = (m[STATE] ?? 0) | HEARD;
}

/** A frame was sent to the socket's peer. */
export function markSpoke(socket: object): void {
  const m = socket as Marked;
  m[STATE] = (m[STATE] ?? 0) | SPOKE;
}

export function startHeartbeat<S extends Pingable>(options: HeartbeatOptions<S>): Heartbeat<S> {
  const steps = options.steps ?? Math.max(1, Math.round(options.intervalMs / 10));
  let round: S[] = [];
  let cursor = 0;
  let perStep = 0;
  let roundStarted = -Infinity;
  const now = options.now ?? (() => performance.now());

  const step = () => {
    if (cursor >= round.length) {
      // With fewer sockets than steps a round ends early; the next still waits for the
      // interval, or a handful of sockets would be pinged every few steps and one on a slow
      // link terminated for a pong that was merely late.
      const t = now();
      if (t - roundStarted < options.intervalMs) return;
      roundStarted = t;
      round = [...options.sockets()];
      cursor = 0;
      perStep = Math.ceil(round.length / steps);
    }
    const end = Math.min(round.length, cursor + perStep);
    for (; cursor < end; cursor++) {
      const socket = round[cursor]!;
      if (socket.readyState !== socket.OPEN) continue;
      const marked = socket as S & Marked;
      const state = marked[STATE] ?? 0;
      if ((state & (HEARD | SPOKE)) === (HEARD | SPOKE) && socket.bufferedAmount === 0) {
        marked[STATE] = ANSWERED;
        continue;
      }
      if ((state & (ANSWERED | HEARD)) === 0) {
        socket.terminate();
        continue;
      }
      marked[STATE] = 0;
      socket.ping();
    }
  };

  const timer = setInterval(step, Math.max(1, Math.floor(options.intervalMs / steps)));
  timer.unref();
  return {
    alive: (socket) => {
      const m = socket as S & Marked;
      m[STATE] = (m[STATE] ?? 0) | ANSWERED;
    },
    step,
    stop: () => clearInterval(timer),
  };
}
