// Paces the frames one socket sends to what the server allows (its token bucket, announced in
// `ready`), so that a burst of our own (a group text to a hundred members is a hundred `send`
// frames) waits here, in order, instead of being refused there, which would also count against
// the socket until the server closes it. Two lanes: urgent frames (acknowledgements, a call's
// signals) go before anything that waits in the other, so a catch-up's acks or a call's ICE
// candidates never queue behind a fan-out. And `send` frames that wait side by side leave as
// one `send-many` where the server takes it: when frames are scarce, each carries more.

/** A `send` frame's content, which may travel in a `send-many` with its neighbours. */
export interface SendItem {
  to: string;
  toDevice?: string;
  id: string;
  body: string;
}

interface Waiting {
  text: string;
  item?: SendItem;
}

/** Kept under the server's figures, since its clock and ours start the bucket at slightly different moments. */
const RATE_MARGIN = 0.9;
const BURST_MARGIN = 4;

export class FramePacer {
  private rate: number;
  private burst: number;
  private tokens: number;
  private last: number;
  private readonly urgent: string[] = [];
  private readonly waiting: Waiting[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Items per `send-many` and bytes of them per frame; 0: the server takes no `send-many`. */
  private mergeItems = 0;
  private mergeBytes = 0;

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

  /** The server's figures for this socket; `sendMany`: items one `send-many` may carry (absent: none). */
  setLimits(limits: { framesPerSecond: number; frameBurst: number; sendMany?: number }, sendManyBytes = 0): void {
    this.refill();
    this.rate = limits.framesPerSecond * RATE_MARGIN;
    this.burst = Math.max(1, limits.frameBurst - BURST_MARGIN);
    this.tokens = Math.min(this.tokens, this.burst);
    this.mergeItems = limits.sendMany ?? 0;
    this.mergeBytes = sendManyBytes;
  }

  /** Counts a frame sent around the pacer (the `auth` frame). */
  spend(): void {
    this.refill();
    this.tokens -= 1;
  }

  /** `item`: the frame is that `send`, and may be merged with others waiting next to it. */
  send(text: string, item?: SendItem): void {
    if (this.queued === 0 && this.take()) return this.write(text);
    this.waiting.push(item ? { text, item } : { text });
    this.schedule();
  }

  /** Ahead of everything in the other lane (still in order among urgent frames, and paced). */
  sendUrgent(text: string): void {
    if (this.urgent.length === 0 && this.take()) return this.write(text);
    this.urgent.push(text);
    this.schedule();
  }

  /** The socket closed: what waits here is dropped (senders that need an answer time out and try again). */
  clear(): void {
    this.urgent.length = 0;
    this.waiting.length = 0;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  get queued(): number {
    return this.urgent.length + this.waiting.length;
  }

  /** The next frame to write: an urgent one, or what waits first, with the `send`s right after it merged in. */
  private next(): string {
    const urgent = this.urgent.shift();
    if (urgent !== undefined) return urgent;
    const head = this.waiting.shift()!;
    if (!head.item || this.mergeItems < 2 || !this.waiting[0]?.item) return head.text;
    const items = [head.item];
    let bytes = itemBytes(head.item);
    while (items.length < this.mergeItems && this.waiting[0]?.item && bytes + itemBytes(this.waiting[0].item) <= this.mergeBytes) {
      const item = this.waiting.shift()!.item!;
      items.push(item);
      bytes += itemBytes(item);
    }
    return items.length === 1 ? head.text : JSON.stringify({ type: 'send-many', items });
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
      while (this.queued && this.take()) this.write(this.next());
      if (this.queued) this.schedule();
    }, wait);
  }
}

function itemBytes(item: SendItem): number {
  return item.body.length + item.to.length + item.id.length + (item.toDevice?.length ?? 0) + 64;
}
