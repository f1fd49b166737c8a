// Paces the frames one socket sends to what the server allows (its token bucket, announced in
// `ready`), so that a burst of our own (a group text to a hundred members is a hundred `send`
// frames) waits here, in order, instead of being refused there, which would also count against
// the socket until the server closes it.

/** Kept under the server's figures, since its clock and ours start the bucket at slightly different moments. */
const RATE_MARGIN = 0.9;
const BURST_MARGIN = 4;

export class FramePacer {
  private rate: number;
  private burst: number;
  private tokens: number;
  private last: number;
  private readonly waiting: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    limits: { framesPerSecond: number; frameBurst: number },
    private readonly write: (text: string) => void,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.rate = limits.framesPerSecond * RATE_MARGIN;
    this.burst = Math.max(1, limits.frameBurst - BURST_MARGIN);
    this.tokens = this.burst;
    this.last = this.now();
  }

  /** The server's figures for this socket. */
  setLimits(limits: { framesPerSecond: number; frameBurst: number }): void {
    this.refill();
    this.rate = limits.framesPerSecond * RATE_MARGIN;
    this.burst = Math.max(1, limits.frameBurst - BURST_MARGIN);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Counts a frame sent around the pacer (the `auth` frame). */
  spend(): void {
    this.refill();
    this.tokens -= 1;
  }

  send(text: string): void {
    if (this.waiting.length === 0 && this.take()) return this.write(text);
    this.waiting.push(text);
    this.schedule();
  }

  /** The socket closed: what waits here is dropped (senders that need an answer time out and try again). */
  clear(): void {
    this.waiting.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  get queued(): number {
    return this.waiting.length;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  private take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private schedule(): void {
    if (this.timer) return;
    this.refill();
    const wait = Math.max(5, ((1 - this.tokens) / this.rate) * 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (this.waiting.length && this.take()) this.write(this.waiting.shift()!);
      if (this.waiting.length) this.schedule();
    }, wait);
  }
}
