// The offline queue (issue #4) on a real server and SQLite file.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACK_MAX_IDS, CLOSE, DELIVERY_WINDOW, DELIVERY_WINDOW_BYTES, type ServerFrame } from '../../src/wire/index.ts';
import { connectAs, signup, startTestServer, uniqueName, type TestServer, type TestSocket } from '../support/server.ts';
import { spawnServer } from '../support/server-process.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000', SIGNALING_FRAMES_PER_SECOND: '1000', SIGNALING_FRAME_BURST: '1000' });
});
afterAll(() => t.close());

let n = 0;
const id = () => `env${String(++n).padStart(13, '0')}${Math.random().toString(36).slice(2, 8)}`;
const body = (text: string) => Buffer.from(text).toString('base64url');

async function sendAll(from: TestSocket, to: string, texts: string[]): Promise<ServerFrame[]> {
  const replies: ServerFrame[] = [];
  for (const text of texts) {
    from.send({ type: 'send', to, id: id(), body: body(text) });
    replies.push(await from.next());
  }
  return replies;
}

/** Many envelopes in send-many frames of 100 (one frame each against the rate limit). */
async function sendAllMany(from: TestSocket, to: string, texts: string[]): Promise<ServerFrame[]> {
  const replies: ServerFrame[] = [];
  for (let i = 0; i < texts.length; i += 100) {
    const chunk = texts.slice(i, i + 100);
    from.send({ type: 'send-many', items: chunk.map((text) => ({ to, id: id(), body: body(text) })) });
    for (let k = 0; k < chunk.length; k++) replies.push(await from.next());
  }
  return replies;
}

async function receive(s: TestSocket, count: number): Promise<Array<Extract<ServerFrame, { type: 'envelope' }>>> {
  const out = [];
  for (let i = 0; i < count; i++) {
    const f = await s.next();
    if (f.type !== 'envelope') throw new Error(`expected an envelope, got ${JSON.stringify(f)}`);
    out.push(f);
  }
  return out;
}

const texts = (frames: Array<{ body: string }>) => frames.map((f) => Buffer.from(f.body, 'base64url').toString());

/** A ping answered means every frame before it on this socket has been handled. */
async function barrier(s: TestSocket): Promise<void> {
  s.send({ type: 'ping' });
  expect(await s.next()).toEqual({ type: 'pong' });
}

describe('offline queue', () => {
  it('stores envelopes for an offline user and delivers them in order; ack deletes them', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const replies = await sendAll(a, bob.username, ['one', 'two', 'three', 'four']);
    expect(replies.every((r) => r.type === 'sent')).toBe(true);

    const b1 = await connectAs(t, bob.token);
    const got = await receive(b1, 4);
    expect(texts(got)).toEqual(['one', 'two', 'three', 'four']);
    expect(got.every((f) => f.from === alice.username)).toBe(true);
    expect(got.map((f) => f.qid)).toEqual([...got.map((f) => f.qid)].sort((x, y) => x - y));
    b1.send({ type: 'ack', qids: got.slice(0, 2).map((f) => f.qid) });
    await barrier(b1);
    b1.close();
    await b1.closed;

    const b2 = await connectAs(t, bob.token);
    expect(texts(await receive(b2, 2))).toEqual(['three', 'four']);
    expect(await b2.silentFor(200)).toBe(true);
    a.close();
    b2.close();
  });

  it('delivers at once to a connected recipient', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const b = await connectAs(t, bob.token);
    const a = await connectAs(t, alice.token);
    await sendAll(a, bob.username, ['now']);
    expect(texts(await receive(b, 1))).toEqual(['now']);
    a.close();
    b.close();
  });

  it('delivers a backlog larger than the window as acks come, each once and in order, and then what comes later', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const W = DELIVERY_WINDOW;
    const backlog = Array.from({ length: 2 * W + 22 }, (_, i) => `m${i}`);
    expect((await sendAllMany(a, bob.username, backlog)).every((r) => r.type === 'sent')).toBe(true);
    const b = await connectAs(t, bob.token);
    expect(b.ready?.queued).toBe(backlog.length); // what a catch-up shows as its size
    expect(b.ready?.limits?.ack).toBe(ACK_MAX_IDS);
    const first = await receive(b, W); // the window: no more until some are acknowledged
    expect(await b.silentFor(200)).toBe(true);
    // The whole window in as few frames as an ack may carry.
    for (let i = 0; i < first.length; i += ACK_MAX_IDS) b.send({ type: 'ack', qids: first.slice(i, i + ACK_MAX_IDS).map((f) => f.qid) });
    const second = await receive(b, W);
    // An ack naming more than the server announced is refused whole, and acknowledges nothing.
    b.send({ type: 'ack', qids: second.slice(0, ACK_MAX_IDS + 1).map((f) => f.qid) });
    expect(await b.next()).toMatchObject({ type: 'error' });
    expect(await b.silentFor(200)).toBe(true);
    b.send({ type: 'ack', qids: second.slice(0, 30).map((f) => f.qid) });
    for (let i = 30; i < second.length; i += ACK_MAX_IDS) b.send({ type: 'ack', qids: second.slice(i, i + ACK_MAX_IDS).map((f) => f.qid) });
    const third = await receive(b, 22);
    expect(texts([...first, ...second, ...third])).toEqual(backlog);
    b.send({ type: 'ack', qids: third.map((f) => f.qid) });
    await barrier(b);
    expect(await b.silentFor(200)).toBe(true);
    // All delivered and acknowledged; a new envelope still arrives at once.
    await sendAll(a, bob.username, ['later']);
    expect(texts(await receive(b, 1))).toEqual(['later']);
    b.close();
    await b.closed;
    const again = await connectAs(t, bob.token);
    expect(again.ready?.queued).toBe(1); // 'later' was never acknowledged
    a.close();
    again.close();
  });

  it('keeps the bytes in flight under the window\'s budget, whatever the count', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const size = 20 * 1024;
    const big = Array.from({ length: 130 }, (_, i) => `b${String(i).padStart(3, '0')}`.padEnd(size, '.'));
    expect((await sendAll(a, bob.username, big)).every((r) => r.type === 'sent')).toBe(true);
    const b = await connectAs(t, bob.token);
    const fits = Math.floor(DELIVERY_WINDOW_BYTES / size);
    const first = await receive(b, fits);
    expect(await b.silentFor(300)).toBe(true);
    b.send({ type: 'ack', qids: first.slice(0, 10).map((f) => f.qid) });
    const more = await receive(b, 10);
    expect(await b.silentFor(300)).toBe(true);
    b.send({ type: 'ack', qids: [...first.slice(10), ...more].map((f) => f.qid) });
    const rest = await receive(b, big.length - fits - 10);
    expect(texts([...first, ...more, ...rest]).map((x) => x.slice(0, 4))).toEqual(big.map((x) => x.slice(0, 4)));
    a.close();
    b.close();
  });

  it('stores a retried envelope (same id) once', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const envelopeId = id();
    for (let i = 0; i < 3; i++) {
      a.send({ type: 'send', to: bob.username, id: envelopeId, body: body('retried') });
      expect(await a.next()).toEqual({ type: 'sent', id: envelopeId });
    }
    const b = await connectAs(t, bob.token);
    expect(texts(await receive(b, 1))).toEqual(['retried']);
    expect(await b.silentFor(200)).toBe(true);
    a.close();
    b.close();
  });

  it('takes the sender from the token, never from the frame', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const mallory = await signup(t);
    const m = await connectAs(t, mallory.token);
    m.send({ type: 'send', to: bob.username, id: id(), body: body('trust me'), from: alice.username });
    expect(await m.next()).toMatchObject({ type: 'sent' });
    const b = await connectAs(t, bob.token);
    const [env] = await receive(b, 1);
    expect(env!.from).toBe(mallory.username);
    m.close();
    b.close();
  });

  it('delivers again on a second connection what the first never acknowledged', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    await sendAll(a, bob.username, ['x', 'y']);
    const first = await connectAs(t, bob.token);
    await receive(first, 2);
    const second = await connectAs(t, bob.token); // replaces the first
    expect((await first.closed).code).toBe(CLOSE.replaced);
    const again = await receive(second, 2);
    expect(texts(again)).toEqual(['x', 'y']);
    second.send({ type: 'ack', qids: again.map((f) => f.qid) });
    await barrier(second);
    second.close();
    const third = await connectAs(t, bob.token);
    expect(await third.silentFor(200)).toBe(true);
    a.close();
    third.close();
  });

  it('ignores acknowledgements of other users\' envelopes', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const carol = await signup(t);
    const a = await connectAs(t, alice.token);
    await sendAll(a, bob.username, ['for bob']);
    const b = await connectAs(t, bob.token);
    const [env] = await receive(b, 1);
    const c = await connectAs(t, carol.token);
    c.send({ type: 'ack', qids: [env!.qid] });
    await barrier(c);
    b.close();
    await b.closed;
    const b2 = await connectAs(t, bob.token);
    expect(texts(await receive(b2, 1))).toEqual(['for bob']);
    a.close();
    b2.close();
    c.close();
  });

  it('takes several envelopes in one send-many frame, answering each as if it came alone, in order', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const carol = await signup(t);
    const a = await connectAs(t, alice.token);
    const ids = [id(), id(), id(), id()];
    const ghost = uniqueName('ghost');
    a.send({
      type: 'send-many',
      items: [
        { to: bob.username, id: ids[0], body: body('to bob') },
        { to: ghost, id: ids[1], body: body('to nobody') },
        { to: carol.username, id: ids[2], body: body('to carol') },
        { to: bob.username, id: ids[3], body: body('to bob again') },
      ],
    });
    const replies = [await a.next(), await a.next(), await a.next(), await a.next()];
    expect(replies.map((r) => [r.type, 'id' in r ? r.id : undefined])).toEqual([['sent', ids[0]], ['error', ids[1]], ['sent', ids[2]], ['sent', ids[3]]]);
    expect(replies[1]).toMatchObject({ code: 'peer_unavailable' });
    expect(texts(await receive(await connectAs(t, bob.token), 2))).toEqual(['to bob', 'to bob again']);
    expect(texts(await receive(await connectAs(t, carol.token), 1))).toEqual(['to carol']);
    // A malformed item refuses the whole frame, and nothing of it is stored.
    a.send({ type: 'send-many', items: [{ to: carol.username, id: id(), body: body('fine') }, { to: carol.username, id: id(), body: 'not base64url!' }] });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'bad_request' });
    a.send({ type: 'send-many', items: [] });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'bad_request' });
    const c2 = await connectAs(t, carol.token);
    expect(texts(await receive(c2, 1))).toEqual(['to carol']);
    expect(await c2.silentFor(200)).toBe(true);
    a.close();
    c2.close();
  });

  it('refuses unknown recipients, yourself, and malformed or oversized bodies', async () => {
    const alice = await signup(t);
    const a = await connectAs(t, alice.token);
    a.send({ type: 'send', to: uniqueName('ghost'), id: id(), body: body('x') });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'peer_unavailable' });
    a.send({ type: 'send', to: alice.username, id: id(), body: body('x') });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'bad_request' });
    a.send({ type: 'send', to: 'bob', id: id(), body: 'not base64url!' });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'bad_request' });
    a.send({ type: 'send', to: 'bob', id: id(), body: Buffer.alloc(23 * 1024).toString('base64url') });
    expect(await a.next()).toMatchObject({ type: 'error', code: 'bad_request' });
    a.close();
  });
});

describe('offline queue limits', () => {
  it('refuses past the count and byte limits with a clear error, and drops what is too old', async () => {
    const limited = await startTestServer({ QUEUE_MAX_MESSAGES: '3', QUEUE_MAX_BYTES: '2048', QUEUE_MAX_AGE_SECONDS: '1' });
    try {
      const alice = await signup(limited);
      const bob = await signup(limited);
      const carol = await signup(limited);
      const a = await connectAs(limited, alice.token);
      const replies = await sendAll(a, bob.username, ['1', '2', '3', '4']);
      expect(replies.map((r) => r.type)).toEqual(['sent', 'sent', 'sent', 'error']);
      expect(replies[3]).toMatchObject({ code: 'queue_full', message: expect.stringMatching(/come online/) });
      const big = Buffer.alloc(1500).toString('base64url');
      a.send({ type: 'send', to: carol.username, id: id(), body: big });
      expect(await a.next()).toMatchObject({ type: 'sent' });
      a.send({ type: 'send', to: carol.username, id: id(), body: big });
      expect(await a.next()).toMatchObject({ type: 'error', code: 'queue_full' });
      // Past the age limit, nothing is delivered.
      await new Promise((r) => setTimeout(r, 1200));
      const b = await connectAs(limited, bob.token);
      expect(await b.silentFor(300)).toBe(true);
      a.close();
      b.close();
    } finally {
      await limited.close();
    }
  });
});

describe('offline queue across crashes', () => {
  it('loses nothing and delivers nothing twice that was acknowledged, across kill -9', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-queue-crash-'));
    let server = await spawnServer(dataDir);
    try {
      const alice = await signup(server);
      const bob = await signup(server);
      const a = await connectAs(server, alice.token);
      await sendAll(a, bob.username, ['before crash 1', 'before crash 2', 'before crash 3']);
      // Stored, not yet delivered: the process dies.
      await server.kill('SIGKILL');
      server = await spawnServer(dataDir);

      const b = await connectAs(server, bob.token);
      const got = await receive(b, 3);
      expect(texts(got)).toEqual(['before crash 1', 'before crash 2', 'before crash 3']);
      b.send({ type: 'ack', qids: [got[0]!.qid, got[1]!.qid] });
      await barrier(b);
      // Acknowledged two, not the third: the process dies again.
      await server.kill('SIGKILL');
      server = await spawnServer(dataDir);

      const b2 = await connectAs(server, bob.token);
      expect(texts(await receive(b2, 1))).toEqual(['before crash 3']);
      expect(await b2.silentFor(300)).toBe(true);
      b2.close();
    } finally {
      await server.kill('SIGKILL');
    }
  }, 60_000);
});
