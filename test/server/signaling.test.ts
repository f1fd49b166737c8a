// The signaling relay on a real server with real WebSockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CLOSE } from '../../src/wire/index.ts';
import { connectAs, signup, startTestServer, TestSocket, uniqueName, type TestServer } from '../support/server.ts';

let t: TestServer;
const CALL = 'AAAAAAAAAAAAAAAAAAAAAA';
const offer = (to: string, extra: Record<string, unknown> = {}) => ({ type: 'signal', to, callId: CALL, data: { kind: 'offer', sdp: 'v=0\r\n' }, ...extra });

beforeAll(async () => {
  t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000' });
});
afterAll(() => t.close());

describe('signaling relay', () => {
  it('relays offer, answer and ICE between two connected users, naming the sender from the token', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const b = await connectAs(t, bob.token);

    a.send(offer(bob.username, { from: 'mallory' }));
    expect(await b.next()).toEqual({ type: 'signal', from: alice.username, fromDevice: '1', callId: CALL, data: { kind: 'offer', sdp: 'v=0\r\n' } });

    b.send({ type: 'signal', to: alice.username, callId: CALL, data: { kind: 'answer', sdp: 'v=0 answer' } });
    expect(await a.next()).toMatchObject({ type: 'signal', from: bob.username, data: { kind: 'answer' } });

    const candidate = { candidate: 'candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd' };
    a.send({ type: 'signal', to: bob.username.toUpperCase(), callId: CALL, data: { kind: 'ice', candidate } });
    expect(await b.next()).toMatchObject({ from: alice.username, data: { kind: 'ice', candidate } });
    a.close();
    b.close();
  });

  it('hands frames to different recipients in turn each to its own, by name as typed', async () => {
    const [alice, bob, carol] = [await signup(t), await signup(t), await signup(t)];
    const a = await connectAs(t, alice.token);
    const b = await connectAs(t, bob.token);
    const c = await connectAs(t, carol.token);
    const order = [bob, bob, carol, bob, carol, carol, bob];
    for (const [i, to] of order.entries()) a.send(offer(i % 2 ? to.username.toUpperCase() : to.username, { data: { kind: 'offer', sdp: `v=0 ${i}` } }));
    const gotBob = [];
    const gotCarol = [];
    for (let i = 0; i < 4; i++) gotBob.push(((await b.next()) as { data: { sdp: string } }).data.sdp);
    for (let i = 0; i < 3; i++) gotCarol.push(((await c.next()) as { data: { sdp: string } }).data.sdp);
    expect(gotBob).toEqual(['v=0 0', 'v=0 1', 'v=0 3', 'v=0 6']);
    expect(gotCarol).toEqual(['v=0 2', 'v=0 4', 'v=0 5']);
    a.close();
    b.close();
    c.close();
  });

  it('gives the same answer for an unknown user and an offline one', async () => {
    const alice = await signup(t);
    const offline = await signup(t);
    const a = await connectAs(t, alice.token);
    a.send(offer(offline.username));
    const toOffline = await a.next();
    a.send(offer(uniqueName('ghost')));
    const toUnknown = await a.next();
    expect(toOffline).toMatchObject({ type: 'error', code: 'peer_unavailable', callId: CALL });
    expect(toUnknown).toMatchObject({ type: 'error', code: 'peer_unavailable', callId: CALL });
    const strip = (f: unknown) => (f as { message: string }).message.replace(/^\S+/, 'NAME');
    expect(strip(toOffline)).toBe(strip(toUnknown));
    a.close();
  });

  it('refuses calling yourself', async () => {
    const alice = await signup(t);
    const a = await connectAs(t, alice.token);
    a.send(offer(alice.username));
    expect(await a.next()).toMatchObject({ type: 'error', code: 'bad_request', message: 'You cannot call yourself.' });
    a.close();
  });

  it('relays nothing before authentication, and closes a socket with a bad token', async () => {
    const bob = await signup(t);
    const b = await connectAs(t, bob.token);
    const s = new TestSocket(t);
    await s.opened();
    s.send(offer(bob.username));
    expect(await s.next()).toMatchObject({ type: 'error', code: 'unauthorized' });
    expect((await s.closed).code).toBe(CLOSE.policy);
    expect(await b.silentFor(200)).toBe(true);

    const forged = new TestSocket(t);
    await forged.opened();
    forged.send({ type: 'auth', token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' });
    expect(await forged.next()).toMatchObject({ type: 'error', code: 'unauthorized' });
    expect((await forged.closed).code).toBe(CLOSE.authFailed);
    b.close();
  });

  it('closes a socket at once when its first frame is not a well-formed auth frame, long before the auth timeout', async () => {
    for (const first of ['not json', '[]', '{"type":"teleport"}', '{"type":"auth"}', 'binary']) {
      const s = new TestSocket(t);
      await s.opened();
      const sentAt = Date.now();
      if (first === 'binary') s.ws.send(Buffer.from([1, 2, 3]), { binary: true });
      else s.ws.send(first);
      expect(await s.next()).toMatchObject({ type: 'error', code: 'unauthorized', message: 'Authenticate first.' });
      const closed = await s.closed;
      expect(closed.code, first).toBe(CLOSE.policy);
      // The test server waits 10 s for `auth`; this must not be that.
      expect(Date.now() - sentAt, first).toBeLessThan(2_000);
    }
  });

  it('closes only sockets that start wrongly: an auth frame first, even one followed at once by a malformed frame, still signs in', async () => {
    const alice = await signup(t);
    const s = new TestSocket(t);
    await s.opened();
    // Sent together: the malformed frame arrives while the token is still being checked.
    s.send({ type: 'auth', token: alice.token });
    s.send('not json');
    const frames = [await s.next(), await s.next()];
    expect(frames).toContainEqual(expect.objectContaining({ type: 'ready' }));
    expect(frames).toContainEqual(expect.objectContaining({ type: 'error', code: 'bad_request' }));
    s.send({ type: 'ping' });
    expect(await s.next()).toEqual({ type: 'pong' });
    s.close();
    // And a bad token is still "auth failed", which the client answers by refreshing its token.
    const bad = new TestSocket(t);
    await bad.opened();
    bad.send({ type: 'auth', token: `${alice.token.slice(0, -4)}AAAA` });
    expect((await bad.closed).code).toBe(CLOSE.authFailed);
  });

  it('answers malformed, binary and unknown frames with an error and stays open', async () => {
    const alice = await signup(t);
    const a = await connectAs(t, alice.token);
    for (const bad of ['not json', '{"type":"signal"}', '[]', '{"type":"teleport"}', '{"type":"signal","to":"bob","callId":"x","data":{"kind":"offer","sdp":"v"}}']) {
      a.send(bad);
      const reply = await a.next();
      expect(reply).toMatchObject({ type: 'error', code: 'bad_request' });
    }
    a.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'bad_request', message: 'Frames must be JSON text.' });
    a.send({ type: 'ping' });
    expect(await a.next()).toEqual({ type: 'pong' });
    a.close();
  });

  it('closes an oversized frame with 1009 and keeps serving everyone else', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const b = await connectAs(t, bob.token);
    a.ws.send('x'.repeat(64 * 1024));
    expect((await a.closed).code).toBe(CLOSE.tooBig);
    const c = await connectAs(t, (await signup(t)).token);
    c.send(offer(bob.username));
    expect(await b.next()).toMatchObject({ type: 'signal', data: { kind: 'offer' } });
    b.close();
    c.close();
  });

  it('closes the older connection when the same user connects again', async () => {
    const alice = await signup(t);
    const first = await connectAs(t, alice.token);
    const second = await connectAs(t, alice.token);
    expect((await first.closed).code).toBe(CLOSE.replaced);
    const bob = await signup(t);
    const b = await connectAs(t, bob.token);
    b.send(offer(alice.username));
    expect(await second.next()).toMatchObject({ type: 'signal', from: bob.username });
    second.close();
    b.close();
  });

  it('refuses a WebSocket from another site (cross-site WebSocket hijacking)', async () => {
    const s = new TestSocket(t, { origin: 'https://evil.example' });
    await expect(s.opened()).rejects.toThrow(/403/);
    const ok = new TestSocket(t, { origin: t.base });
    await ok.opened();
    ok.close();
  });

  it('rate-limits a flood from one connection without touching others', async () => {
    const flooder = await connectAs(t, (await signup(t)).token);
    for (let i = 0; i < 200; i++) flooder.send({ type: 'ping' });
    const replies: string[] = [];
    for (;;) {
      const f = await flooder.next().catch(() => undefined);
      if (!f) break;
      replies.push(f.type === 'error' ? f.code : f.type);
    }
    expect(replies).toContain('rate_limited');
    expect(replies.filter((r) => r === 'pong').length).toBeLessThan(100);
    // Past the tolerance the flooder is cut off with a policy close.
    expect(await flooder.closed).toMatchObject({ code: CLOSE.policy, reason: 'too many frames' });
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const b = await connectAs(t, bob.token);
    a.send(offer(bob.username));
    expect(await b.next()).toMatchObject({ type: 'signal', from: alice.username });
    a.close();
    b.close();
  });

  it('closes the sockets of a user who logs out', async () => {
    const alice = await signup(t);
    const a = await connectAs(t, alice.token);
    const { http } = await import('../support/server.ts');
    await http(t, 'POST', '/api/auth/logout', { cookie: alice.cookie, token: alice.token });
    expect((await a.closed).code).toBe(CLOSE.loggedOut);
  });

  it('relays one connection\'s frames in the order sent, even when the store answers out of order (issue #5)', async () => {
    // A networked store answers lookups in any order; stand in for it with random delays.
    const { openSqliteStore } = await import('../../src/server/store/sqlite/index.ts');
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const real = openSqliteStore(path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-order-')), 'p.sqlite'));
    const jittery = {
      ...real,
      users: { ...real.users, findByUsername: async (name: string) => {
        await new Promise((r) => setTimeout(r, Math.random() * 15));
        return real.users.findByUsername(name);
      } },
      close: () => real.close(),
    };
    const slow = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000' }, { store: jittery });
    try {
      const alice = await signup(slow);
      const bob = await signup(slow);
      const a = await connectAs(slow, alice.token);
      const b = await connectAs(slow, bob.token);
      a.send(offer(bob.username));
      for (let i = 0; i < 20; i++) {
        a.send({ type: 'signal', to: bob.username, callId: CALL, data: { kind: 'ice', candidate: { candidate: `candidate:${i} 1 udp 1 192.0.2.1 ${1000 + i} typ host`, sdpMid: '0', sdpMLineIndex: 0 } } });
      }
      const got: string[] = [];
      for (let i = 0; i < 21; i++) {
        const f = await b.next();
        if (f.type !== 'signal') throw new Error(JSON.stringify(f));
        got.push(f.data.kind === 'ice' ? f.data.candidate!.candidate.split(' ')[0]! : f.data.kind);
      }
      expect(got).toEqual(['offer', ...Array.from({ length: 20 }, (_, i) => `candidate:${i}`)]);
      a.close();
      b.close();
    } finally {
      await slow.close();
    }
  });

  it('closes a socket that never authenticates', async () => {
    const quick = await startTestServer({ SIGNALING_AUTH_TIMEOUT_MS: '300' });
    try {
      const ws = new WebSocket(quick.wsUrl, { ca: quick.ca });
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.on('error', () => {});
      expect(await closed).toBe(CLOSE.authTimeout);
    } finally {
      await quick.close();
    }
  });

  it('keeps sockets that answer pings and terminates one that stops answering (heartbeat)', async () => {
    const fast = await startTestServer({ SIGNUP_LIMIT_PER_IP: '100' }, { heartbeatMs: 200 });
    try {
      const [alice, carol, mute] = [await signup(fast), await signup(fast), await signup(fast)];
      const a = await connectAs(fast, alice.token);
      const c = await connectAs(fast, carol.token);
      // A peer that vanished without a FIN looks like this: the socket is open, nothing answers.
      const silent = new WebSocket(fast.wsUrl, { ca: fast.ca, autoPong: false });
      silent.on('error', () => {});
      const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
      await new Promise((resolve) => silent.once('open', resolve));
      silent.send(JSON.stringify({ type: 'auth', token: mute.token }));
      let pings = 0;
      a.ws.on('ping', () => pings++);
      // Ten intervals: every round pinged Alice and heard her pong.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await silentClosed).toBe(1006);
      expect(pings).toBeGreaterThanOrEqual(3);
      expect(pings).toBeLessThanOrEqual(11);
      a.send(offer(carol.username));
      expect(await c.next()).toMatchObject({ type: 'signal', from: alice.username });
      a.close();
      c.close();
    } finally {
      await fast.close();
    }
  });

  it('does not ping a socket whose frames go both ways, and closes it once it falls silent (heartbeat)', async () => {
    const fast = await startTestServer({ SIGNUP_LIMIT_PER_IP: '100' }, { heartbeatMs: 500 });
    try {
      const user = await signup(fast);
      // Never answers a ping: only its own frames can keep it.
      const chatty = new WebSocket(fast.wsUrl, { ca: fast.ca, autoPong: false });
      chatty.on('error', () => {});
      const closed = new Promise<number>((resolve) => chatty.on('close', (code) => resolve(code)));
      await new Promise((resolve) => chatty.once('open', resolve));
      let pings = 0;
      chatty.on('ping', () => pings++);
      chatty.send(JSON.stringify({ type: 'auth', token: user.token }));
      // A ping frame every 20 ms, each answered with a pong frame: traffic both ways. Five
      // intervals; the server shares this process, so only a stall of a whole interval (no frame
      // read in it) could earn the socket a ping.
      const talk = setInterval(() => chatty.send(JSON.stringify({ type: 'ping' })), 20);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      clearInterval(talk);
      expect(pings).toBe(0);
      expect(chatty.readyState).toBe(WebSocket.OPEN);
      expect(await closed).toBe(1006);
      expect(pings).toBeGreaterThanOrEqual(1);
    } finally {
      await fast.close();
    }
  });
});
