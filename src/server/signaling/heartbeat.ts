// Finds sockets whose peer vanished without a FIN (a phone that lost its network, a laptop that
// went to sleep), so they stop counting as "online". Each socket is pinged once per interval and
// terminated if it did not answer the previous ping.
//
// The pings are spread over the interval in small steps rather than sent in one loop: a ping on a
// TLS socket is an encryption and a write, and at 19,000 sockets one loop held the event loop for
// seconds every interval, stalling every relayed frame behind it (bench:signaling, issue #5).
// A step every 10 ms: with one every 100 ms, a step at 19,000 sockets sent 64 pings, each costing
// about what relaying a frame does (40 µs), so frames waited up to 2.5 ms ten times a second.
export interface Pingable {
  readonly readyState: number;
  readonly OPEN: number;
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
  /** Call when a socket is accepted and when it answers a ping. */
  alive(socket: S): void;
  /** One step (what the timer calls; exposed for tests). */
  step(): void;
  stop(): void;
}

// Whether a socket answered its last ping, kept on the socket itself under a symbol: cheaper
// than a WeakMap entry per socket, and gone with the socket.
const ANSWERED = Symbol('parley.heartbeat.answered');
type Marked = { [ANSWERED]?: boolean };

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
      if (marked[ANSWERED] === false) {
        socket.terminate();
        continue;
      }
      marked[ANSWERED] = false;
      socket.ping();
    }
  };

  const timer = setInterval(step, Math.max(1, Math.floor(options.intervalMs / steps)));
  timer.unref();
  return {
    alive: (socket) => {
      (socket as S & Marked)[ANSWERED] = true;
    },
    step,
    stop: () => clearInterval(timer),
  };
}
