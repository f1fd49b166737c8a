// /healthz (liveness) and /healthz/ready (readiness, issue #5). Readiness must fail while the
// store or the bus cannot be reached, and recover by itself when they come back. The first cases
// use stand-ins whose ping fails; the last cuts a real PostgreSQL and a real Redis off through a
// TCP proxy (needs DATABASE_URL and REDIS_URL).
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/server/store/sqlite/index.ts';
import { createMemoryBus } from '../../src/server/bus/memory.ts';
import type { Store } from '../../src/server/store/types.ts';
import type { Bus } from '../../src/server/bus/types.ts';
import { http, startTestServer, type TestServer } from '../support/server.ts';
import { hostAndPort, startTcpProxy, viaProxy } from '../support/tcp-proxy.ts';
import { dropSchema, freshSchemaName } from '../support/store-harness.ts';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const DATABASE_URL = process.env.DATABASE_URL ?? '';
const REDIS_URL = process.env.REDIS_URL ?? '';
const realSkipReason = DATABASE_URL && REDIS_URL ? undefined : 'DATABASE_URL and REDIS_URL are not both set';
if (realSkipReason) console.log(`[health] readiness against real PostgreSQL and Redis SKIPPED: ${realSkipReason}`);

const servers: TestServer[] = [];
afterAll(async () => {
  for (const t of servers) await t.close();
});

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('health endpoints', () => {
  it('/healthz says the process is alive; /healthz/ready that its store and bus answer', async () => {
    const t = await startTestServer();
    servers.push(t);
    const live = await http(t, 'GET', '/healthz');
    expect(live.status).toBe(200);
    expect(live.body).toEqual({ status: 'ok' });
    const ready = await http(t, 'GET', '/healthz/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { store: 'ok', bus: 'ok' } });
    expect(ready.headers['cache-control']).toBe('no-store');
  });

  it('/healthz/ready answers 503 and names what is unreachable, with no error details; /healthz stays 200', async () => {
    let storeDown = false;
    let busDown = false;
    const real = openSqliteStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-health-')), 'p.sqlite'));
    const store: Store = { ...real, ping: async () => (storeDown ? Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:5432')) : real.ping()), close: () => real.close() };
    const memory = createMemoryBus();
    const bus: Bus = Object.assign(Object.create(memory) as Bus, { ping: async () => (busDown ? new Promise<void>(() => {}) : undefined) });
    const t = await startTestServer({}, { store, bus });
    servers.push(t);

    storeDown = true;
    let res = await http(t, 'GET', '/healthz/ready');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'unavailable', checks: { store: 'unreachable', bus: 'ok' } });
    expect(res.text).not.toMatch(/10\.0\.0\.7|ECONNREFUSED/);
    expect((await http(t, 'GET', '/healthz')).status).toBe(200);

    storeDown = false;
    busDown = true; // a ping that never answers counts as unreachable after the timeout
    const started = Date.now();
    res = await http(t, 'GET', '/healthz/ready');
    expect(res.status).toBe(503);
    expect(res.body.checks).toEqual({ store: 'ok', bus: 'unreachable' });
    expect(Date.now() - started).toBeLessThan(5000);

    busDown = false;
    expect((await http(t, 'GET', '/healthz/ready')).status).toBe(200);
  });
});

describe.skipIf(Boolean(realSkipReason))('readiness against real PostgreSQL and Redis (needs DATABASE_URL and REDIS_URL)', () => {
  it('fails while PostgreSQL, then Redis, is cut off, and recovers when each comes back', async () => {
    const pgTarget = hostAndPort(DATABASE_URL, 5432);
    const redisTarget = hostAndPort(REDIS_URL, 6379);
    const pgProxy = await startTcpProxy(pgTarget.host, pgTarget.port);
    const redisProxy = await startTcpProxy(redisTarget.host, redisTarget.port);
    const schema = freshSchemaName('parley_health');
    try {
      const t = await startTestServer({
        DATABASE_URL: viaProxy(DATABASE_URL, pgProxy),
        DATABASE_SCHEMA: schema,
        REDIS_URL: viaProxy(REDIS_URL, redisProxy),
        REDIS_PREFIX: `parley_test:${schema}:`,
      });
      servers.push(t);
      const ready = () => http(t, 'GET', '/healthz/ready');
      expect((await ready()).body).toEqual({ status: 'ready', checks: { store: 'ok', bus: 'ok' } });

      await pgProxy.cut();
      let res = await ready();
      expect(res.status).toBe(503);
      expect(res.body.checks).toEqual({ store: 'unreachable', bus: 'ok' });
      expect((await http(t, 'GET', '/healthz')).status).toBe(200);
      // Metrics still answer, without the gauges the database would have filled in.
      const metrics = await http(t, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.text).toMatch(/^parley_signaling_connections 0$/m);
      expect(metrics.text).not.toMatch(/^parley_queue_envelopes /m);

      await pgProxy.restore();
      await until(async () => (await ready()).status === 200, 10_000, 'store recovery');

      await redisProxy.cut();
      res = await ready();
      expect(res.status).toBe(503);
      expect(res.body.checks).toEqual({ store: 'ok', bus: 'unreachable' });
      await redisProxy.restore();
      await until(async () => (await ready()).status === 200, 10_000, 'bus recovery');
    } finally {
      await pgProxy.close();
      await redisProxy.close();
      await servers.pop()?.close();
      await dropSchema(DATABASE_URL, schema);
    }
  }, 60_000);
});
