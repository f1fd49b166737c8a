// When each socket must go: the authentication timeout before `auth`, the token's expiry after.
// One timer for all sockets rather than one each: a Timeout with its callback and scope was
// about 300 bytes per connection, a tenth of what Parley kept per socket beyond a bare relay
// (bench:signaling heap snapshots, issue #5). Deadlines are kept per whole second and checked a
// few times a second, so a socket goes within about a second after its deadline, never before.

export interface Expiring {
  /** The second this item is filed under; 0 when it has no deadline. Maintained by Deadlines. */
  deadlineSecond: number;
  /** Called once, at or shortly after the deadline. */
  expire(): void;
}

export interface DeadlineOptions {
  now?: () => number;
  /** How often deadlines are checked; 0 for none (tests call `sweep`). */
  checkEveryMs?: number;
}

export class Deadlines {
  private readonly bySecond = new Map<number, Set<Expiring>>();
  private readonly now: () => number;
  private swept: number;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(options: DeadlineOptions = {}) {
    this.now = options.now ?? Date.now;
    this.swept = Math.floor(this.now() / 1000);
    const every = options.checkEveryMs ?? 200;
    if (every > 0) {
      this.timer = setInterval(() => this.sweep(), every);
      this.timer.unref();
    }
  }

  /** Files `item` to expire at `atMs` (epoch ms), replacing any earlier deadline it had. */
  set(item: Expiring, atMs: number): void {
    this.clear(item);
    // Rounded up: a deadline is never met early. One already past goes at the next check.
    const second = Math.max(Math.ceil(atMs / 1000), this.swept + 1);
    let bucket = this.bySecond.get(second);
    if (!bucket) this.bySecond.set(second, (bucket = new Set()));
    bucket.add(item);
    item.deadlineSecond = second;
  }

  clear(item: Expiring): void {
    if (!item.deadlineSecond) return;
    const bucket = this.bySecond.get(item.deadlineSecond);
    bucket?.delete(item);
    if (bucket?.size === 0) this.bySecond.delete(item.deadlineSecond);
    item.deadlineSecond = 0;
  }

  /** Expires everything whose second has fully begun. */
  sweep(): void {
    const current = Math.floor(this.now() / 1000);
    for (; this.swept < current; ) {
      const second = ++this.swept;
      const bucket = this.bySecond.get(second);
      if (!bucket) continue;
      this.bySecond.delete(second);
      for (const item of bucket) {
        item.deadlineSecond = 0;
        item.expire();
      }
    }
  }

  /** Items waiting for a deadline (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const bucket of this.bySecond.values()) n += bucket.size;
    return n;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
