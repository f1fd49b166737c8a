// Several Parley processes on different ports sharing PostgreSQL, Redis and one token signing
// key (issue #5), each run from source exactly as `main.ts` runs in production. Clients on one
// process reach clients on another; a process killed with SIGKILL loses nobody's messages.
// Needs DATABASE_URL and REDIS_URL; without them the suite is skipped and says why. Each run
// works in a PostgreSQL schema and under a Redis key prefix of its own, removed afterwards.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE, type ServerFrame } from '../../src/wire/index.ts';
import { connectAs, http, signup, TestSocket } from '../support/server.ts';
import { spawnServer, type ServerChild } from '../support/server-process.ts';
import { dropSchema, freshSchemaName } from '../support/store-harness.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? '';
const REDIS_URL = process.env.REDIS_URL ?? '';
const skipReason = !DATABASE_URL || !REDIS_URL ? `${[!DATABASE_URL && 'DATABASE_URL', !REDIS_URL && 'REDIS_URL'].filter(Boolean).join(' and ')} not set (CI sets both)` : undefined;
if (skipReason) console.log(`[scale-out] multi-process tests SKIPPED: ${skipReason}`);

const PRESENCE_TTL_MS = 2000;
const CALL = 'AAAAAAAAAAAAAAAAAAAAAA';
let ids = 0;
const envelopeId = () => `scaleout${String(++ids).padStart(10, '0')}xxxx`;
const body = (text: string) => Buffer.from(text).toString('base64url');
const text = (f: ServerFrame) => (f.type === 'envelope' ? Buffer.from(f.body, 'base64url').toString() : `not an envelope: ${JSON.stringify(f)}`);

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

describe.skipIf(Boolean(skipReason))('scale-out: processes sharing PostgreSQL and Redis (needs DATABASE_URL and REDIS_URL)', () => {
  const schema = freshSchemaName('parley_scale');
  const prefix = `parley_test:${schema}:`;
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  // A password in the URL (the trust-auth test server ignores it) that must never reach a log.
  const dbUrl = (() => {
    if (!DATABASE_URL) return ''; // the suite is skipped; its body is still read
    const u = new URL(DATABASE_URL);
    if (!u.password) u.password = 'not-a-real-password-7f3a';
    return u.toString();
  })();
  const env = {
    DATABASE_URL: dbUrl,
    DATABASE_SCHEMA: schema,
    DATABASE_POOL_SIZE: '4',
    REDIS_URL,
    REDIS_PREFIX: prefix,
    PRESENCE_TTL_MS: String(PRESENCE_TTL_MS),
    TOKEN_SIGNING_KEY: JSON.stringify(signingKey),
    SIGNUP_LIMIT_PER_IP: '1000',
    LOGIN_LIMIT_PER_USER: '3',
    LOG_LEVEL: 'info',
  };
  const processes: ServerChild[] = [];
  const start = async (args: string[] = []) => {
    const p = await spawnServer(mkdtempSync(path.join(os.tmpdir(), 'parley-scale-')), env, args);
    processes.push(p);
    return p;
  };
  let a: ServerChild;
  let b: ServerChild;
  let redis: Redis;
  const presence = (userId: string) => redis.get(`${prefix}presence:${userId}`);

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    // Started together: both run the migrations at once, and the advisory lock sorts it out.
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);

  afterAll(async () => {
    for (const p of processes) await p.kill('SIGKILL');
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await dropSchema(DATABASE_URL, schema);
  });

  it('accepts on each process the tokens the other issued', async () => {
    const alice = await signup(a);
    expect((await http(b, 'GET', '/api/keys', { token: alice.token })).status).toBe(200);
    const s = await connectAs(b, alice.token);
    s.close();
    for (const p of [a, b]) expect((await http(p, 'GET', '/healthz/ready')).body).toEqual({ status: 'ready', checks: { store: 'ok', bus: 'ok' } });
  });

  it('(a) relays an offer from a client on process A to a client on process B, and the answer back', async () => {
    const alice = await signup(a);
    const bob = await signup(b);
    const onA = await connectAs(a, alice.token);
    const onB = await connectAs(b, bob.token);
    onA.send({ type: 'signal', to: bob.username, callId: CALL, data: { kind: 'offer', sdp: 'v=0 offer\r\n' } });
    expect(await onB.next()).toEqual({ type: 'signal', from: alice.username, fromDevice: '1', callId: CALL, data: { kind: 'offer', sdp: 'v=0 offer\r\n' } });
    onB.send({ type: 'signal', to: alice.username, callId: CALL, data: { kind: 'answer', sdp: 'v=0 answer\r\n' } });
    expect(await onA.next()).toMatchObject({ type: 'signal', from: bob.username, data: { kind: 'answer' } });
    for (let i = 0; i < 10; i++) {
      onA.send({ type: 'signal', to: bob.username, callId: CALL, data: { kind: 'ice', candidate: { candidate: `candidate:${i} 1 udp 1 192.0.2.1 ${2000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 } } });
    }
    for (let i = 0; i < 10; i++) expect(await onB.next()).toMatchObject({ data: { kind: 'ice', candidate: { candidate: expect.stringMatching(new RegExp(`^candidate:${i} `)) } } });
    const metrics = (await http(a, 'GET', '/metrics')).text;
    expect(Number(/^parley_signaling_frames_relayed_total (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(11);
    onA.close();
    onB.close();
  });

  it('(b) delivers an envelope queued through process A to its recipient connected to process B, at once and after a reconnect', async () => {
    const alice = await signup(a);
    const bob = await signup(a);
    const carol = await signup(b);
    const onA = await connectAs(a, alice.token);
    const bobOnB = await connectAs(b, bob.token);
    onA.send({ type: 'send', to: bob.username, id: envelopeId(), body: body('hello bob on B') });
    expect(await onA.next()).toMatchObject({ type: 'sent' });
    const env = await bobOnB.next();
    expect(env).toMatchObject({ type: 'envelope', from: alice.username });
    expect(text(env)).toBe('hello bob on B');
    bobOnB.send({ type: 'ack', qids: [(env as { qid: number }).qid] });

    // Carol is offline: the envelope waits in PostgreSQL until she connects, to B.
    onA.send({ type: 'send', to: carol.username, id: envelopeId(), body: body('for carol, later') });
    expect(await onA.next()).toMatchObject({ type: 'sent' });
    const carolOnB = await connectAs(b, carol.token);
    expect(text(await carolOnB.next())).toBe('for carol, later');
    onA.close();
    bobOnB.close();
    carolOnB.close();
  });

  it('applies a block made through process A to the next frame relayed by process B, whose cache had the old answer', async () => {
    const alice = await signup(a);
    const mallory = await signup(a);
    const aliceOnB = await connectAs(b, alice.token);
    const malloryOnB = await connectAs(b, mallory.token);
    const offer = { type: 'signal', to: alice.username, callId: CALL, data: { kind: 'offer', sdp: 'v=0\r\n' } };
    malloryOnB.send(offer);
    expect(await aliceOnB.next()).toMatchObject({ type: 'signal', from: mallory.username });
    expect((await http(a, 'PUT', `/api/contacts/${mallory.username}`, { token: alice.token, json: { state: 'blocked' } })).status).toBe(204);
    // The change crosses Redis pub/sub; B drops what it knew as it hears it. Until then a frame
    // reaches Alice and Mallory hears nothing; from then on Mallory is told "not available".
    await until(
      async () => {
        malloryOnB.send(offer);
        return !(await malloryOnB.silentFor(200));
      },
      3000,
      'block applied on B',
    );
    expect(await malloryOnB.next()).toMatchObject({ type: 'error', code: 'peer_unavailable' });
    while (!(await aliceOnB.silentFor(200))) await aliceOnB.next();
    malloryOnB.send(offer);
    expect(await malloryOnB.next()).toMatchObject({ type: 'error', code: 'peer_unavailable' });
    expect(await aliceOnB.silentFor(300)).toBe(true);
    aliceOnB.close();
    malloryOnB.close();
  });

  it('counts log-in attempts on one account across processes, so more processes allow no more guesses', async () => {
    const alice = await signup(a);
    const guess = (p: ServerChild) => http(p, 'POST', '/api/auth/login', { json: { username: alice.username, password: 'not the password' } });
    expect([(await guess(a)).status, (await guess(b)).status, (await guess(a)).status]).toEqual([401, 401, 401]);
    const refused = await guess(b);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('closes an older connection on the other process when the same user connects again', async () => {
    const alice = await signup(a);
    const first = await connectAs(a, alice.token);
    const second = await connectAs(b, alice.token);
    expect((await first.closed).code).toBe(CLOSE.replaced);
    const bob = await signup(a);
    const bobOnA = await connectAs(a, bob.token);
    bobOnA.send({ type: 'signal', to: alice.username, callId: CALL, data: { kind: 'offer', sdp: 'v=0\r\n' } });
    expect(await second.next()).toMatchObject({ type: 'signal', from: bob.username });
    second.close();
    bobOnA.close();
  });

  it('runs the API and the relay as separate processes: sign up on one, relay on the other, log out closes the socket', async () => {
    const [api, relay] = await Promise.all([start(['--role=api']), start(['--role=signaling'])]);
    const alice = await signup(api);
    const bob = await signup(api);
    const aliceOnRelay = await connectAs(relay, alice.token);
    const bobOnB = await connectAs(b, bob.token);
    aliceOnRelay.send({ type: 'signal', to: bob.username, callId: CALL, data: { kind: 'offer', sdp: 'v=0\r\n' } });
    expect(await bobOnB.next()).toMatchObject({ type: 'signal', from: alice.username });
    expect((await http(relay, 'POST', '/api/auth/login', { json: {} })).status).toBe(404);
    await expect(new TestSocket(api).opened()).rejects.toThrow(/404/);
    // Log-out is an API call; the socket it must close is on the relay process.
    await http(api, 'POST', '/api/auth/logout', { cookie: alice.cookie, token: alice.token });
    expect((await aliceOnRelay.closed).code).toBe(CLOSE.loggedOut);
    bobOnB.close();
    await Promise.all([api.kill(), relay.kill()]);
  }, 60_000);

  it('(c) after kill -9 of process A, its users go offline within the presence expiry, their messages wait, and they go on through B', async () => {
    const alice = await signup(a);
    const bob = await signup(b);
    const aliceOnA = await connectAs(a, alice.token);
    const bobOnB = await connectAs(b, bob.token);
    expect(await presence(alice.userId)).not.toBeNull();

    await a.kill('SIGKILL');
    expect((await aliceOnA.closed).code).toBe(1006); // the connection just dies, no close frame
    // Nobody cleans up after a killed process: its users' presence must lapse by itself.
    const lapsed = await until(async () => (await presence(alice.userId)) === null, PRESENCE_TTL_MS * 3, 'presence expiry');
    expect(lapsed).toBeLessThanOrEqual(PRESENCE_TTL_MS + 1000);

    bobOnB.send({ type: 'signal', to: alice.username, callId: CALL, data: { kind: 'offer', sdp: 'v=0\r\n' } });
    expect(await bobOnB.next()).toMatchObject({ type: 'error', code: 'peer_unavailable', callId: CALL });
    bobOnB.send({ type: 'send', to: alice.username, id: envelopeId(), body: body('while you were away') });
    expect(await bobOnB.next()).toMatchObject({ type: 'sent' });

    // Alice's client reconnects, to the process still standing, with the token A issued.
    const aliceOnB = await connectAs(b, alice.token);
    const waiting = await aliceOnB.next();
    expect(text(waiting)).toBe('while you were away');
    aliceOnB.send({ type: 'ack', qids: [(waiting as { qid: number }).qid] });
    aliceOnB.send({ type: 'signal', to: bob.username, callId: CALL, data: { kind: 'offer', sdp: 'v=0 back\r\n' } });
    expect(await bobOnB.next()).toMatchObject({ type: 'signal', from: alice.username, data: { kind: 'offer', sdp: 'v=0 back\r\n' } });
    aliceOnB.send({ type: 'ping' });
    expect(await aliceOnB.next()).toEqual({ type: 'pong' });
    const again = await connectAs(b, alice.token); // a fresh connection finds nothing left to deliver
    expect(await again.silentFor(300)).toBe(true);
    again.close();
    bobOnB.close();
  }, 30_000);

  it('never writes the database password, the signing key or a token to any process\'s log', async () => {
    const secrets = ['not-a-real-password-7f3a', signingKey.d!];
    for (const p of processes) {
      const out = p.output();
      expect(out).toMatch(/Parley is running/);
      for (const s of secrets) expect(out).not.toContain(s);
      expect(out).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/); // no JWT
      for (const line of out.split('\n').filter((l) => l.startsWith('{'))) expect(() => JSON.parse(line)).not.toThrow();
    }
  });
});

