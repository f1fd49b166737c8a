// Attempt limits shared by every process of a deployment (REDIS_URL): with N processes behind a
// balancer, per-process counters would allow N times the configured log-in guesses per account.
// One counter per limit and key in Redis, a fixed window started by the first attempt (INCR,
// then PEXPIRE when it was the first), both in one script so a crash between them cannot leave
// a counter that never expires.
//
// While Redis cannot be reached the process counts by itself (auth/rate-limiter.ts): limits
// get looser by the number of processes for that time, but log-ins go on.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { RateLimiter, type AttemptLimiter, type AttemptLimits, type RateDecision } from './rate-limiter.ts';

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}`;

export interface SharedLimitsOptions {
  url: string;
  prefix: string;
  log: { warn(details: object, message: string): void };
}

export async function openSharedLimits(options: SharedLimitsOptions): Promise<AttemptLimits> {
  const redis = new Redis(options.url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 });
  let lastWarned = 0;
  const warn = (e: Error) => {
    if (Date.now() - lastWarned > 5000) {
      lastWarned = Date.now();
      options.log.warn({ reason: e.message }, 'shared rate limits unavailable; counting in this process');
    }
  };
  redis.on('error', warn);
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    throw new Error(`cannot reach Redis: ${(e as Error).message}`, { cause: e });
  }
  redis.defineCommand('parleyHit', { numberOfKeys: 1, lua: HIT });
  const hit = (redis as unknown as { parleyHit(key: string, windowMs: number): Promise<[number, number]> }).parleyHit.bind(redis);

  return {
    limiter(name, limit, windowMs): AttemptLimiter {
      const local = new RateLimiter(limit, windowMs);
      return {
        async hit(key): Promise<RateDecision> {
          // Keys are usernames and addresses: hashed, so the key space has one shape and no
          // client-chosen text ends up in Redis key names.
          const digest = createHash('sha256').update(key).digest('base64url').slice(0, 22);
          try {
            const [count, ttlMs] = await hit(`${options.prefix}limit:${name}:${digest}`, windowMs);
            return { allowed: count <= limit, retryAfterSeconds: Math.max(1, Math.ceil(Number(ttlMs) / 1000)) };
          } catch (e) {
            warn(e as Error);
            return local.hit(key);
          }
        },
      };
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
