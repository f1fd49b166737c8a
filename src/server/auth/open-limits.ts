// Picks where attempt limits are counted: in Redis, across every process, when REDIS_URL is set;
// otherwise in this process.
import type { Config } from '../config.ts';
import { RateLimiter, type AttemptLimits } from './rate-limiter.ts';
import { openSharedLimits } from './redis-rate-limiter.ts';

export async function openAttemptLimits(config: Config, log: { warn(details: object, message: string): void }): Promise<AttemptLimits> {
  if (config.redis) return openSharedLimits({ url: config.redis.url, prefix: config.redis.prefix, log });
  return { limiter: (_name, limit, windowMs) => new RateLimiter(limit, windowMs), close: async () => {} };
}
