// Fixed-window attempt counters keyed by IP or username, in memory: the limits of a single
// process, and what a shared limiter falls back on (auth/redis-rate-limiter.ts). A blocked caller
// is told when to retry.

/** Counts one attempt for `key` and says whether it is within the limit. */
export interface AttemptLimiter {
  hit(key: string): Promise<RateDecision>;
}

/** Named limiters over one counting place (this process, or Redis for all processes). */
export interface AttemptLimits {
  /** A limiter called `name` (part of its keys): `limit` attempts per key per `windowMs`. */
  limiter(name: string, limit: number, windowMs: number): AttemptLimiter;
  close(): Promise<void>;
}

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

export class RateLimiter implements AttemptLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async hit(key: string): Promise<RateDecision> {
    const now = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(key, w);
    }
    w.count++;
    if (this.windows.size > 100_000) this.sweep(now);
    return { allowed: w.count <= this.limit, retryAfterSeconds: Math.max(1, Math.ceil((w.resetAt - now) / 1000)) };
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(now: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= now) this.windows.delete(k);
  }
}
