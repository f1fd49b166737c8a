// The Redis bus against a real Redis (REDIS_URL). Two bus instances in this process stand for two
// server processes; a crash is a real child process killed with SIGKILL. Every run uses a key
// prefix of its own, so runs and other test files never see each other's users.
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBus } from '../../src/server/bus/redis.ts';
import type { Bus, Endpoint } from '../../src/server/bus/types.ts';
import { hostAndPort, startTcpProxy, viaProxy, type TcpProxy } from '../support/tcp-proxy.ts';

const REDIS_URL = process.env.REDIS_URL ?? '';
const skipReason = REDIS_URL ? undefined : 'REDIS_URL is not set (CI sets it to redis://127.0.0.1:6379)';
if (skipReason) console.log(`[redis-bus] Redis bus tests SKIPPED: ${skipReason}`);

const REPLACED = 4003;
const TTL = 1000;
const quiet = { warn() {} };

function recorder() {
  const r = { sent: [] as string[], closes: [] as Array<[number, string]>, queued: 0, endpoint: undefined as unknown as Endpoint };
  r.endpoint = { send: (t) => r.sent.push(t), close: (code, reason) => r.closes.push([code, reason]), onQueue: () => r.queued++ };
  return r;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - start;
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(Boolean(skipReason))('Redis bus (needs REDIS_URL)', () => {
  const prefix = `parley_test:${process.pid}:${Date.now().toString(36)}:`;
  let raw: Redis;
  const buses: Bus[] = [];
  const bus = async (options: { url?: string; ttl?: number } = {}) => {
    const b = await createRedisBus({ url: options.url ?? REDIS_URL, prefix, presenceTtlMs: options.ttl ?? TTL, log: quiet, pingTimeoutMs: 500 });
    buses.push(b);
    return b;
  };
  const presence = (userId: string) => raw.get(`${prefix}presence:${userId}`);
  /** Bus `a` reaches Redis through a proxy the test can cut and restore; bus `b` directly. */
  const withCuttableRedis = async (test: (s: { a: Bus; b: Bus; proxy: TcpProxy }) => Promise<void>) => {
    const target = hostAndPort(REDIS_URL, 6379);
    const proxy = await startTcpProxy(target.host, target.port);
    try {
      await test({ a: await bus({ url: viaProxy(REDIS_URL, proxy) }), b: await bus(), proxy });
    } finally {
      await proxy.close();
    }
  };
  let users = 0;
  const userId = () => `user-${++users}`;

  beforeAll(() => {
    raw = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    for (const b of buses.splice(0)) await b.close();
  });
  afterAll(async () => {
    const keys = await raw.keys(`${prefix}*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
  });

  it('routes a frame to the process holding the user, and answers false for a user connected nowhere', async () => {
    const [a, b] = [await bus(), await bus()];
    const bob = recorder();
    const u = userId();
    await b.attach(u, bob.endpoint, REPLACED);
    expect(await a.deliver(u, 'offer from a')).toBe(true);
    await until(() => bob.sent.length === 1, 2000, 'frame arrival');
    expect(bob.sent).toEqual(['offer from a']);
    expect(await b.deliver(u, 'local')).toBe(true);
    expect(bob.sent).toEqual(['offer from a', 'local']);
    expect(await a.deliver('nobody-at-all', 'x')).toBe(false);
    expect(await a.isOnline(u)).toBe(true);
    expect(await a.isOnline('nobody-at-all')).toBe(false);
    expect(b.localConnections).toBe(1);
    expect(a.localConnections).toBe(0);
  });

  it('routes queue notices and disconnects to the holding process', async () => {
    const [a, b] = [await bus(), await bus()];
    const bob = recorder();
    const u = userId();
    await b.attach(u, bob.endpoint, REPLACED);
    await a.notifyQueue(u);
    await until(() => bob.queued === 1, 2000, 'queue notice');
    await a.disconnect(u, 4004, 'logged out');
    await until(() => bob.closes.length === 1, 2000, 'close');
    expect(bob.closes).toEqual([[4004, 'logged out']]);
    await a.notifyQueue('nobody-at-all'); // nothing to do, nothing thrown
  });

  it('closes the older connection on another process with the replaced code, and keeps the newer one', async () => {
    const [a, b] = [await bus(), await bus()];
    const first = recorder();
    const second = recorder();
    const u = userId();
    await a.attach(u, first.endpoint, REPLACED);
    await b.attach(u, second.endpoint, REPLACED);
    await until(() => first.closes.length === 1, 2000, 'replacement');
    expect(first.closes).toEqual([[REPLACED, 'signed in elsewhere']]);
    expect(a.localConnections).toBe(0);
    a.detach(u, first.endpoint); // the old socket's close event: must not take the newer connection's presence
    expect(await a.deliver(u, 'to the newer one')).toBe(true);
    await until(() => second.sent.length === 1, 2000, 'frame to the newer connection');
    expect(second.closes).toEqual([]);
  });

  it('closes the older connection in the same process', async () => {
    const a = await bus();
    const first = recorder();
    const second = recorder();
    const u = userId();
    await a.attach(u, first.endpoint, REPLACED);
    await a.attach(u, second.endpoint, REPLACED);
    expect(first.closes).toEqual([[REPLACED, 'signed in elsewhere']]);
    a.detach(u, first.endpoint);
    expect(await a.deliver(u, 'x')).toBe(true);
    expect(second.sent).toEqual(['x']);
    expect(a.localConnections).toBe(1);
  });

  it('hands presence back at once on detach and on a graceful close', async () => {
    const [a, b] = [await bus(), await bus()];
    const u = userId();
    const only = recorder().endpoint;
    await b.attach(u, only, REPLACED);
    b.detach(u, only);
    await until(async () => (await presence(u)) === null, 1000, 'release on detach');
    expect(await a.deliver(u, 'x')).toBe(false);
    await b.attach(u, recorder().endpoint, REPLACED);
    expect(await a.isOnline(u)).toBe(true);
    await b.close();
    expect(await presence(u)).toBeNull();
    expect(await a.isOnline(u)).toBe(false);
  });

  it('keeps a live process\'s users present long past the expiry, by its heartbeat', async () => {
    const [a, b] = [await bus(), await bus()];
    const u = userId();
    await b.attach(u, recorder().endpoint, REPLACED);
    await new Promise((r) => setTimeout(r, TTL * 2.5));
    expect(await raw.pttl(`${prefix}presence:${u}`)).toBeGreaterThan(0);
    expect(await a.deliver(u, 'still here')).toBe(true);
  });

  describe('a process killed with SIGKILL', () => {
    const children: Array<ReturnType<typeof spawn>> = [];
    afterAll(() => {
      for (const c of children) c.kill('SIGKILL');
    });
    const crashedHolder = async (u: string) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/redis-bus-child.ts'], {
        env: { ...process.env, BUS_PREFIX: prefix, BUS_TTL_MS: String(TTL), BUS_USER: u },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d));
      child.stderr!.on('data', (d: Buffer) => (out += d));
      await until(() => out.includes('attached') || child.exitCode !== null, 20_000, 'child start');
      if (!out.includes('attached')) throw new Error(`child failed:\n${out}`);
      expect(await presence(u)).not.toBeNull();
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    };

    it('leaves no user online past the expiry, with nobody cleaning up after it', async () => {
      const u = userId();
      await crashedHolder(u);
      const waited = await until(async () => (await presence(u)) === null, TTL * 3, 'presence expiry');
      expect(waited).toBeLessThanOrEqual(TTL + 500);
    }, 30_000);

    it('is noticed at once by a process routing to it: not delivered, presence removed', async () => {
      const a = await bus();
      const u = userId();
      await crashedHolder(u);
      expect(await a.deliver(u, 'into the void')).toBe(false);
      expect(await presence(u)).toBeNull();
      expect(await a.isOnline(u)).toBe(false);
    }, 30_000);
  });

  it('ignores malformed messages on its channel and goes on routing', async () => {
    const [a, b] = [await bus(), await bus()];
    const bob = recorder();
    const u = userId();
    await b.attach(u, bob.endpoint, REPLACED);
    const owner = (await presence(u))!.split('/')[0];
    const junk = [
      'not json',
      '{"k":"frame"}',
      JSON.stringify({ k: 'frame', u, t: 42 }),
      JSON.stringify({ k: 'close', u, code: 99999, reason: 'x' }),
      JSON.stringify({ k: 'close', u, code: 'soon', reason: 'x' }),
      JSON.stringify({ k: 'replaced', u, c: 'some-other-connection', code: REPLACED }),
      JSON.stringify({ k: 'teleport', u }),
      'null',
      '[]',
    ];
    for (const j of junk) expect(await raw.publish(`${prefix}proc:${owner}`, j)).toBe(1);
    expect(await a.deliver(u, 'real')).toBe(true);
    await until(() => bob.sent.length === 1, 2000, 'real frame');
    expect(bob.sent).toEqual(['real']);
    expect(bob.closes).toEqual([]);
    expect(bob.queued).toBe(0);
  });

  it('tells every process, itself included, whose blocks changed', async () => {
    const [a, b] = [await bus(), await bus()];
    const heard = { a: [] as Array<string | undefined>, b: [] as Array<string | undefined> };
    a.onBlocksChanged((owner) => heard.a.push(owner));
    b.onBlocksChanged((owner) => heard.b.push(owner));
    expect(a.hearsChanges && b.hearsChanges).toBe(true);
    await a.blocksChanged('owner-1');
    expect(heard.a).toContain('owner-1'); // at once, before the publish returns
    await until(() => heard.b.includes('owner-1'), 2000, 'change heard by the other process');
    expect(heard.b.every((o) => o === 'owner-1')).toBe(true);
  });

  it('says it cannot hear changes while its subscription is down, and says "forget everything" when it is back', async () => {
    await withCuttableRedis(async ({ a, b, proxy }) => {
      const heard: Array<string | undefined> = [];
      a.onBlocksChanged((owner) => heard.push(owner));
      await proxy.cut();
      await until(() => !a.hearsChanges, 5000, 'deaf while cut');
      expect(heard).toContain(undefined);
      await b.blocksChanged('owner-missed'); // said while A could not hear
      heard.length = 0;
      await proxy.restore();
      await until(() => a.hearsChanges, 10_000, 'hearing again');
      expect(heard).toEqual([undefined]);
      await b.blocksChanged('owner-2');
      await until(() => heard.includes('owner-2'), 2000, 'change heard after the reconnect');
      expect(heard).not.toContain('owner-missed');
    });
  }, 30_000);

  it('fails its readiness ping, and routes nothing, while Redis is unreachable; recovers after', async () => {
    await withCuttableRedis(async ({ a, b, proxy }) => {
      const u = userId();
      await b.attach(u, recorder().endpoint, REPLACED);
      await a.ping();
      expect(await a.deliver(u, 'x')).toBe(true);
      await proxy.cut();
      await expect(a.ping()).rejects.toThrow();
      expect(await a.deliver(u, 'x')).toBe(false);
      await proxy.restore();
      await until(() => a.ping().then(() => true, () => false), 10_000, 'reconnect');
      expect(await a.deliver(u, 'x')).toBe(true);
    });
  }, 30_000);
});
