// Contacts, presence and blocking (issue #8) on a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, http, signup, startTestServer, uniqueName, type TestServer, type TestSocket } from '../support/server.ts';
import type { ServerFrame } from '../../src/wire/index.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000' });
});
afterAll(() => t.close());

const add = (token: string, name: string, state: 'added' | 'blocked' = 'added') => http(t, 'PUT', `/api/contacts/${name}`, { token, json: { state } });

async function nextPresence(s: TestSocket): Promise<Extract<ServerFrame, { type: 'presence' }>> {
  for (;;) {
    const f = await s.next();
    if (f.type === 'presence') return f;
  }
}

describe('contacts and presence', () => {
  it('shares presence only between two users who added each other', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    expect((await add(alice.token, bob.username)).status).toBe(204);
    // One-sided: Alice sees no presence for Bob.
    let list = (await http(t, 'GET', '/api/contacts', { token: alice.token })).body.contacts;
    expect(list).toEqual([{ username: bob.username, state: 'added', mutual: false, online: null }]);
    const b = await connectAs(t, bob.token);
    expect(await a.silentFor(200)).toBe(true);

    await add(bob.token, alice.username); // now mutual, both online
    expect(await nextPresence(a)).toEqual({ type: 'presence', user: bob.username, online: true });
    expect(await nextPresence(b)).toEqual({ type: 'presence', user: alice.username, online: true });
    list = (await http(t, 'GET', '/api/contacts', { token: alice.token })).body.contacts;
    expect(list[0]).toMatchObject({ mutual: true, online: true });

    b.close();
    expect(await nextPresence(a)).toEqual({ type: 'presence', user: bob.username, online: false });
    const b2 = await connectAs(t, bob.token);
    expect(await nextPresence(b2)).toEqual({ type: 'presence', user: alice.username, online: true }); // snapshot on connect
    expect(await nextPresence(a)).toEqual({ type: 'presence', user: bob.username, online: true });
    a.close();
    b2.close();
  });

  it('hides a blocker: calls and transient frames vanish, queued messages are silently dropped, presence stops', async () => {
    const alice = await signup(t);
    const mallory = await signup(t);
    await add(alice.token, mallory.username);
    await add(mallory.token, alice.username);
    const a = await connectAs(t, alice.token);
    const m = await connectAs(t, mallory.token);
    await nextPresence(a);
    await nextPresence(m);
    expect((await add(alice.token, mallory.username, 'blocked')).status).toBe(204);
    expect(await nextPresence(m)).toEqual({ type: 'presence', user: alice.username, online: false });
    expect(await nextPresence(a)).toEqual({ type: 'presence', user: mallory.username, online: false });

    m.send({ type: 'signal', to: alice.username, callId: 'AAAAAAAAAAAAAAAA', data: { kind: 'hangup' } });
    expect(await m.next()).toMatchObject({ type: 'error', code: 'peer_unavailable' });
    m.send({ type: 'send', to: alice.username, id: 'BBBBBBBBBBBBBBBB', body: 'AAAA' });
    expect(await m.next()).toEqual({ type: 'sent', id: 'BBBBBBBBBBBBBBBB' }); // not told
    m.send({ type: 'transient', to: alice.username, body: 'AAAA' });
    expect(await a.silentFor(300)).toBe(true);
    a.close();
    await a.closed;
    const a2 = await connectAs(t, alice.token);
    expect(await a2.silentFor(300)).toBe(true); // nothing was queued
    a2.close();
    m.close();
  });

  it('applies a block to the very next frame after calls have flowed, and an unblock too (the relay caches who blocks whom)', async () => {
    const alice = await signup(t);
    const mallory = await signup(t);
    const a = await connectAs(t, alice.token);
    const m = await connectAs(t, mallory.token);
    const ice = (i: number) => ({ type: 'signal', to: alice.username, callId: 'CCCCCCCCCCCCCCCC', data: { kind: 'ice', candidate: { candidate: `candidate:${i} 1 udp 1 192.0.2.1 9 typ host` } } });
    for (let i = 0; i < 5; i++) m.send(ice(i));
    for (let i = 0; i < 5; i++) expect(await a.next()).toMatchObject({ type: 'signal', from: mallory.username });
    m.send({ type: 'transient', to: alice.username, body: 'AAAA' });
    expect(await a.next()).toMatchObject({ type: 'transient', from: mallory.username });

    expect((await add(alice.token, mallory.username, 'blocked')).status).toBe(204);
    m.send(ice(5));
    expect(await m.next()).toMatchObject({ type: 'error', code: 'peer_unavailable', callId: 'CCCCCCCCCCCCCCCC' });
    m.send({ type: 'transient', to: alice.username, body: 'AAAA' });
    expect(await a.silentFor(200)).toBe(true);

    expect((await http(t, 'DELETE', `/api/contacts/${mallory.username}`, { token: alice.token })).status).toBe(204);
    m.send(ice(6));
    expect(await a.next()).toMatchObject({ type: 'signal', from: mallory.username, data: { candidate: { candidate: expect.stringMatching(/^candidate:6 /) } } });
    a.close();
    m.close();
  });

  it('applies a block to the very next queued message after messages have flowed, and an unblock too (the queue shares the relay\'s caches)', async () => {
    const alice = await signup(t);
    const mallory = await signup(t);
    const a = await connectAs(t, alice.token);
    const m = await connectAs(t, mallory.token);
    const send = async (id: string) => {
      m.send({ type: 'send', to: alice.username, id, body: 'AAAA' });
      expect(await m.next()).toEqual({ type: 'sent', id });
    };
    await send('DDDDDDDDDDDDDDD1');
    const first = await a.next();
    expect(first).toMatchObject({ type: 'envelope', from: mallory.username });
    a.send({ type: 'ack', qids: [(first as Extract<ServerFrame, { type: 'envelope' }>).qid] });

    expect((await add(alice.token, mallory.username, 'blocked')).status).toBe(204);
    await send('DDDDDDDDDDDDDDD2'); // not told
    expect(await a.silentFor(300)).toBe(true);

    expect((await http(t, 'DELETE', `/api/contacts/${mallory.username}`, { token: alice.token })).status).toBe(204);
    await send('DDDDDDDDDDDDDDD3');
    expect(await a.next()).toMatchObject({ type: 'envelope', from: mallory.username });
    a.close();
    m.close();
  });

  it('relays transient frames only to someone online, naming the sender from the token', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    a.send({ type: 'transient', to: bob.username, body: 'AAAA', from: 'mallory' });
    expect(await a.silentFor(150)).toBe(true);
    const b = await connectAs(t, bob.token);
    a.send({ type: 'transient', to: bob.username, body: 'AAAA', from: 'mallory' });
    expect(await b.next()).toEqual({ type: 'transient', from: alice.username, fromDevice: '1', body: 'AAAA' });
    a.close();
    b.close();
  });

  it('lists, unblocks and removes contacts, refusing oneself and unknown names', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    expect((await add(alice.token, alice.username)).status).toBe(400);
    expect((await add(alice.token, uniqueName('ghost'))).status).toBe(404);
    expect((await http(t, 'PUT', `/api/contacts/${bob.username}`, { token: alice.token, json: { state: 'friend' } })).status).toBe(400);
    await add(alice.token, bob.username, 'blocked');
    await add(alice.token, bob.username, 'added');
    expect((await http(t, 'GET', '/api/contacts', { token: alice.token })).body.contacts[0].state).toBe('added');
    expect((await http(t, 'DELETE', `/api/contacts/${bob.username}`, { token: alice.token })).status).toBe(204);
    expect((await http(t, 'GET', '/api/contacts', { token: alice.token })).body.contacts).toEqual([]);
    expect((await http(t, 'GET', '/api/contacts')).status).toBe(401);
  });
});
