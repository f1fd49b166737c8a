// Attempt limits shared through Redis (REDIS_URL): two instances stand for two processes behind a
// balancer, which together must allow no more than the configured attempts.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSharedLimits } from '../../src/server/auth/redis-rate-limiter.ts';
import type { AttemptLimits } from '../../src/server/auth/rate-limiter.ts';
import { hostAndPort, startTcpProxy, viaProxy } from '../support/tcp-proxy.ts';

const REDIS_URL = process.env.REDIS_URL ?? '';
const skipReason = REDIS_URL ? undefined : 'REDIS_URL is not set (CI sets it to redis://127.0.0.1:6379)';
if (skipReason) console.log(`[rate-limits] shared rate limit tests SKIPPED: ${skipReason}`);

describe.skipIf(Boolean(skipReason))('rate limits shared through Redis (needs REDIS_URL)', () => {
  const prefix = `parley_test:${process.pid}:${Date.now().toString(36)}:`;
  const quiet = { warn() {} };
  const opened: AttemptLimits[] = [];
  const open = async (url = REDIS_URL) => {
    const s = await openSharedLimits({ url, prefix, log: quiet });
    opened.push(s);
    return s;
  };
  let raw: Redis;
  beforeAll(() => {
    raw = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
  });

  it('counts the attempts of every process against one limit, per key and per limiter', async () => {
    const [a, b] = [await open(), await open()];
    const onA = a.limiter('login-user', 3, 60_000);
    const onB = b.limiter('login-user', 3, 60_000);
    const results = [await onA.hit('alice'), await onB.hit('alice'), await onA.hit('alice'), await onB.hit('alice')];
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]!.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect((await onB.hit('bob')).allowed).toBe(true);
    expect((await b.limiter('signup-ip', 3, 60_000).hit('alice')).allowed).toBe(true);
  });

  it('opens a new window when the old one ends', async () => {
    const a = await open();
    const l = a.limiter('short', 1, 300);
    expect((await l.hit('k')).allowed).toBe(true);
    expect((await l.hit('k')).allowed).toBe(false);
    await new Promise((r) => setTimeout(r, 400));
    expect((await l.hit('k')).allowed).toBe(true);
  });

  it('keeps client-chosen text out of key names, and never leaves a counter without expiry', async () => {
    const a = await open();
    const key = 'user\nwith:odd*chars';
    await a.limiter('names', 5, 60_000).hit(key);
    const keys = await raw.keys(`${prefix}limit:names:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain('odd');
    // A counter that lost its expiry somehow (a crash between commands, an operator) gets one back.
    const digest = createHash('sha256').update('stuck').digest('base64url').slice(0, 22);
    await raw.set(`${prefix}limit:names:${digest}`, '3');
    expect((await a.limiter('names', 5, 60_000).hit('stuck')).allowed).toBe(true);
    expect(await raw.pttl(`${prefix}limit:names:${digest}`)).toBeGreaterThan(0);
  });

  it('counts in the process while Redis is unreachable, and shares again when it is back', async () => {
    const target = hostAndPort(REDIS_URL, 6379);
    const proxy = await startTcpProxy(target.host, target.port);
    try {
      const a = await open(viaProxy(REDIS_URL, proxy));
      const l = a.limiter('outage', 2, 60_000);
      expect((await l.hit('k')).allowed).toBe(true);
      await proxy.cut();
      // Local counting starts from zero: looser for the outage, never a refusal of everyone.
      expect((await l.hit('k')).allowed).toBe(true);
      expect((await l.hit('k')).allowed).toBe(true);
      expect((await l.hit('k')).allowed).toBe(false);
      await proxy.restore();
      const start = Date.now();
      let shared = false;
      while (!shared && Date.now() - start < 10_000) {
        await new Promise((r) => setTimeout(r, 200));
        shared = Number(await raw.get(`${prefix}limit:outage:${createHash('sha256').update('other').digest('base64url').slice(0, 22)}`)) > 0;
        if (!shared) await l.hit('other');
      }
      expect(shared).toBe(true);
    } finally {
      await proxy.close();
    }
  }, 30_000);
});
