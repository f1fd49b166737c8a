// Several browsers per account on a real server (issue #17): the signed list of browsers, keys and
// queues per browser, unlinking, and link requests. Peers verify lists themselves
// (test/protocol/device-list.test.ts); this is what the server refuses and routes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOSE, DEVICE_HEADER, encodeBase64url } from '../../src/wire/index.ts';
import { deviceEntryOf, firstDeviceList, nextDeviceList, type SignedDeviceList } from '../../src/protocol/device-list.ts';
import { sign } from '../../src/crypto/ecdsa.ts';
import { decodeDeviceList, encodeDeviceList } from '../../src/wire/device-list.ts';
import { http, refreshCookieOf, startTestServer, TestSocket, uniqueName, type TestServer } from '../support/server.ts';
import { identityToWire, makeIdentity } from '../support/identity.ts';
import { keyUpload } from '../support/keys.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000' });
});
afterAll(() => t.close());

const freshLinkId = () => encodeBase64url(randomBytes(16));
const wire = (l: SignedDeviceList) => ({ body: encodeBase64url(l.body), signature: encodeBase64url(l.signature) });

/** An account the way v1 made it: one browser, whose identity is the account key. */
async function account() {
  const identity = await makeIdentity();
  const username = uniqueName('dev');
  const res = await http(t, 'POST', '/api/auth/signup', { json: { username, password: 'password123', identity: identityToWire(identity) } });
  expect(res.status).toBe(201);
  const token: string = res.body.accessToken;
  const upload = await keyUpload({ identity });
  expect((await http(t, 'PUT', '/api/keys', { token, json: upload.body })).status).toBe(200);
  return { username, token, identity, userId: res.body.user.id as string, cookie: refreshCookieOf(res)! };
}

async function socket(token: string, device?: string): Promise<TestSocket> {
  const s = new TestSocket(t);
  await s.opened();
  s.send(device ? { type: 'auth', token, device } : { type: 'auth', token });
  return s;
}

async function ready(token: string, device?: string): Promise<TestSocket> {
  const s = await socket(token, device);
  const f = await s.next();
  expect(f).toMatchObject({ type: 'ready', device: device ?? '1' });
  return s;
}

/** Alice links a laptop: version 1 (her v1 keys) and version 2 (with the laptop), in one request. */
async function linkLaptop(alice: Awaited<ReturnType<typeof account>>) {
  const laptop = await makeIdentity();
  const v1 = await firstDeviceList(alice.identity);
  const v2 = await nextDeviceList(v1, [...v1.list.devices, deviceEntryOf('laptop', laptop)], { id: '1', identity: alice.identity });
  const res = await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { first: wire(v1), list: wire(v2), names: { laptop: 'Chromium on Linux' } } });
  expect(res.status, res.text).toBe(200);
  expect(res.body).toEqual({ version: 2 });
  const upload = await keyUpload({ identity: laptop });
  const published = await http(t, 'PUT', '/api/keys', { token: alice.token, json: upload.body, headers: { [DEVICE_HEADER]: 'laptop' } });
  expect(published.status, published.text).toBe(200);
  return { laptop, v1, v2 };
}

describe('devices', () => {
  it('publishes a signed list, serves it to peers, and keeps keys and bundles per browser', async () => {
    const alice = await account();
    const bob = await account();
    expect((await http(t, 'GET', `/api/users/${alice.username}/devices`, { token: bob.token })).body).toEqual({ username: alice.username, chain: [] });
    const { laptop, v1, v2 } = await linkLaptop(alice);
    expect((await http(t, 'GET', `/api/users/${alice.username}/devices`, { token: bob.token })).body.chain).toEqual([wire(v1), wire(v2)]);
    const own = await http(t, 'GET', '/api/devices', { token: alice.token });
    expect(own.body.devices.map((d: { id: string; name: string }) => [d.id, d.name])).toEqual([['1', ''], ['laptop', 'Chromium on Linux']]);
    const laptopBundle = await http(t, 'GET', `/api/users/${alice.username}/bundle?device=laptop`, { token: bob.token });
    expect(laptopBundle.body.identity).toEqual(identityToWire(laptop));
    const firstBundle = await http(t, 'GET', `/api/users/${alice.username}/bundle`, { token: bob.token });
    expect(firstBundle.body.identity).toEqual(identityToWire(alice.identity));
    // The safety number stays the account's: /keys still names the account key.
    expect((await http(t, 'GET', `/api/users/${alice.username}/keys`, { token: bob.token })).body.identity).toEqual(identityToWire(alice.identity));
    expect((await http(t, 'GET', `/api/users/${alice.username}/bundle?device=nope`, { token: bob.token })).status).toBe(404);
    // A browser that is not in the list cannot publish keys as one.
    const stranger = await keyUpload();
    const refused = await http(t, 'PUT', '/api/keys', { token: alice.token, json: stranger.body, headers: { [DEVICE_HEADER]: 'ghost' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('device_unlinked');
    // Nor publish other keys than the list gave it.
    const swapped = await http(t, 'PUT', '/api/keys', { token: alice.token, json: stranger.body, headers: { [DEVICE_HEADER]: 'laptop' } });
    expect(swapped.status).toBe(400);
  });

  it('refuses a list no browser of the account signed, one out of sequence, and one signed by another browser than the sender', async () => {
    const alice = await account();
    const ghost = await makeIdentity();
    const v1 = await firstDeviceList(alice.identity);
    // The server's own version 2 (signed by a key that is not on version 1).
    const forged = encodeDeviceList({ ...decodeDeviceList(v1.body), version: 2, previous: v1.hash, signer: 'ghost', devices: [...v1.list.devices, deviceEntryOf('ghost', ghost)] });
    const res = await http(t, 'POST', '/api/devices/list', {
      token: alice.token,
      json: { first: wire(v1), list: { body: encodeBase64url(forged), signature: encodeBase64url(await sign(ghost.signing.privateKey, forged)) } },
    });
    expect(res.status).toBe(400);
    expect((await http(t, 'GET', `/api/users/${alice.username}/devices`, { token: alice.token })).body.chain).toEqual([]);
    // Version 2 without version 1.
    const v2 = await nextDeviceList(v1, [...v1.list.devices, deviceEntryOf('laptop', ghost)], { id: '1', identity: alice.identity });
    expect((await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { list: wire(v2) } })).status).toBe(409);
    // Version 1 made with other keys than the account's.
    const other = await firstDeviceList(ghost);
    expect((await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { list: wire(other) } })).status).toBe(400);
    // Sent by the laptop but signed by browser 1.
    expect((await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { first: wire(v1), list: wire(v2) }, headers: { [DEVICE_HEADER]: 'laptop' } })).status).toBe(403);
    expect((await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { first: wire(v1), list: wire(v2) } })).status).toBe(200);
    // The same version again is a conflict, not a second list.
    expect((await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { list: wire(v2) } })).status).toBe(409);
  });

  it('queues, relays and delivers per browser, names the sending browser, and lets one browser write to another of its account', async () => {
    const alice = await account();
    const bob = await account();
    await linkLaptop(alice);
    const first = await ready(alice.token);
    const laptop = await ready(alice.token, 'laptop');
    const b = await ready(bob.token);
    b.send({ type: 'send', to: alice.username, toDevice: 'laptop', id: 'envelope-for-laptop-001', body: 'AAAA' });
    expect(await b.next()).toEqual({ type: 'sent', id: 'envelope-for-laptop-001' });
    expect(await laptop.next()).toMatchObject({ type: 'envelope', from: bob.username, fromDevice: '1', body: 'AAAA' });
    expect(await first.silentFor(300)).toBe(true);
    b.send({ type: 'send', to: alice.username, id: 'envelope-for-first-0001', body: 'BBBB' });
    expect(await first.next()).toMatchObject({ type: 'envelope', from: bob.username, body: 'BBBB' });
    // The laptop writes to Alice's first browser: a sent copy, through the same queue.
    laptop.send({ type: 'send', to: alice.username, toDevice: '1', id: 'envelope-own-copy-0001', body: 'CCCC' });
    expect(await laptop.next()).toEqual({ type: 'sent', id: 'envelope-own-copy-0001' });
    expect(await first.next()).toMatchObject({ type: 'envelope', from: alice.username, fromDevice: 'laptop', body: 'CCCC' });
    laptop.send({ type: 'send', to: alice.username, toDevice: 'laptop', id: 'envelope-to-itself-0001', body: 'DDDD' });
    expect(await laptop.next()).toMatchObject({ type: 'error', code: 'bad_request', id: 'envelope-to-itself-0001' });
    // Signaling too: an offer to the laptop reaches the laptop alone.
    b.send({ type: 'signal', to: alice.username, toDevice: 'laptop', callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'hangup' } });
    expect(await laptop.next()).toMatchObject({ type: 'signal', from: bob.username, fromDevice: '1', data: { kind: 'hangup' } });
    expect(await first.silentFor(300)).toBe(true);
    for (const s of [first, laptop, b]) s.close();
  });

  it('unlinks: the browser is told to wipe, its queue and keys are gone, and it cannot come back', async () => {
    const alice = await account();
    const bob = await account();
    const { v2 } = await linkLaptop(alice);
    const b = await ready(bob.token);
    b.send({ type: 'send', to: alice.username, toDevice: 'laptop', id: 'queued-for-laptop-0001', body: 'AAAA' });
    expect(await b.next()).toMatchObject({ type: 'sent' });
    const laptop = await ready(alice.token, 'laptop');
    expect(await laptop.next()).toMatchObject({ type: 'envelope' });
    const v3 = await nextDeviceList(v2, [v2.list.devices[0]!], { id: '1', identity: alice.identity });
    expect((await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { list: wire(v3) } })).status).toBe(200);
    expect(await laptop.next()).toEqual({ type: 'unlinked' });
    expect((await laptop.closed).code).toBe(CLOSE.unlinked);
    // Bob hears that Alice's browsers changed only if they are mutual contacts; his next envelope to the laptop is refused.
    b.send({ type: 'send', to: alice.username, toDevice: 'laptop', id: 'queued-for-laptop-0002', body: 'AAAA' });
    expect(await b.next()).toMatchObject({ type: 'error', code: 'peer_unavailable' });
    const again = await socket(alice.token, 'laptop');
    expect(await again.next()).toEqual({ type: 'unlinked' });
    expect((await again.closed).code).toBe(CLOSE.unlinked);
    expect((await http(t, 'GET', `/api/users/${alice.username}/bundle?device=laptop`, { token: bob.token })).status).toBe(404);
    expect((await http(t, 'GET', '/api/devices', { token: alice.token })).body.devices.map((d: { id: string }) => d.id)).toEqual(['1']);
    expect((await http(t, 'GET', '/api/keys', { token: alice.token, headers: { [DEVICE_HEADER]: 'laptop' } })).status).toBe(403);
    b.close();
  });

  it('tells the account\'s browsers and its mutual contacts when its list changes', async () => {
    const alice = await account();
    const bob = await account();
    for (const [me, other] of [[alice, bob], [bob, alice]] as const) {
      expect((await http(t, 'PUT', `/api/contacts/${other.username}`, { token: me.token, json: { state: 'added' } })).status).toBe(204);
    }
    const b = await ready(bob.token);
    const a = await ready(alice.token);
    await linkLaptop(alice);
    const seen = async (s: TestSocket) => {
      for (;;) {
        const f = await s.next();
        if (f.type === 'devices') return f;
      }
    };
    expect(await seen(b)).toEqual({ type: 'devices', user: alice.username });
    expect(await seen(a)).toEqual({ type: 'devices', user: alice.username });
    a.close();
    b.close();
  });

  it('links through a request that is used once, by its own account, and expires', async () => {
    const alice = await account();
    const mallory = await account();
    const request = encodeBase64url(new Uint8Array(300).fill(3));
    const linkId = freshLinkId();
    const created = await http(t, 'POST', '/api/links', { token: alice.token, json: { linkId, request } });
    expect(created.status).toBe(200);
    expect(created.body.linkId).toBe(linkId);
    // Another account cannot take the same id (nor learn anything else from trying).
    expect((await http(t, 'POST', '/api/links', { token: mallory.token, json: { linkId, request } })).status).toBe(409);
    expect(created.body.expiresAt - Date.now()).toBeGreaterThan(9 * 60_000);
    expect((await http(t, 'GET', `/api/links/${linkId}`, { token: mallory.token })).status).toBe(404);
    expect((await http(t, 'GET', `/api/links/${linkId}`, { token: alice.token })).body.request).toBe(request);
    expect((await http(t, 'GET', `/api/links/${linkId}/answer`, { token: alice.token })).body).toEqual({ answer: null });
    expect((await http(t, 'POST', `/api/links/${linkId}/answer`, { token: mallory.token, json: { answer: 'AAAA' } })).status).toBe(404);
    expect((await http(t, 'POST', `/api/links/${linkId}/answer`, { token: alice.token, json: { answer: 'AAAA' } })).status).toBe(200);
    expect((await http(t, 'POST', `/api/links/${linkId}/answer`, { token: alice.token, json: { answer: 'BBBB' } })).status).toBe(404);
    expect((await http(t, 'GET', `/api/links/${linkId}/answer`, { token: alice.token })).body).toEqual({ answer: 'AAAA' });
    expect((await http(t, 'GET', `/api/links/${linkId}`, { token: alice.token })).status).toBe(404);
    expect((await http(t, 'GET', '/api/links/not-a-link-id', { token: alice.token })).status).toBe(404);
    expect((await http(t, 'POST', '/api/links', { token: alice.token, json: { linkId: freshLinkId(), request: '!!' } })).status).toBe(400);
    // At most five open codes at once.
    for (let i = 0; i < 5; i++) expect((await http(t, 'POST', '/api/links', { token: alice.token, json: { linkId: freshLinkId(), request } })).status).toBe(200);
    expect((await http(t, 'POST', '/api/links', { token: alice.token, json: { linkId: freshLinkId(), request } })).status).toBe(429);
  });

  it('holds an account to ten browsers', async () => {
    const alice = await account();
    const first = await firstDeviceList(alice.identity);
    const devices = [...first.list.devices];
    for (let i = 0; i < 9; i++) devices.push(deviceEntryOf(`d${i}`, await makeIdentity()));
    const ten = await nextDeviceList(first, devices, { id: '1', identity: alice.identity });
    expect((await http(t, 'POST', '/api/devices/list', { token: alice.token, json: { first: wire(first), list: wire(ten) } })).status).toBe(200);
    const res = await http(t, 'POST', '/api/links', { token: alice.token, json: { linkId: freshLinkId(), request: 'AAAA' } });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/10 linked browsers/);
  });

  it('resets the identity from any browser: the others are unlinked and told, the asker is browser 1 with the new keys', async () => {
    const alice = await account();
    const bob = await account();
    await linkLaptop(alice);
    const first = await ready(alice.token);
    const onLaptop = await ready(alice.token, 'laptop');
    const fresh = await makeIdentity();
    const res = await http(t, 'POST', '/api/devices/reset', { token: alice.token, json: { identity: identityToWire(fresh), name: 'Work laptop' }, headers: { [DEVICE_HEADER]: 'laptop' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ device: '1' });
    // Browser 1 (which may be in someone else's hands) is told to wipe itself; the laptop is not.
    expect(await first.next()).toEqual({ type: 'unlinked' });
    expect((await onLaptop.closed).code).toBe(CLOSE.replaced);
    expect(await onLaptop.silentFor(100)).toBe(true);
    // The account's key is the new one, there is no list any more, and one browser: 1, named.
    expect((await http(t, 'GET', `/api/users/${alice.username}/keys`, { token: bob.token })).body.identity).toEqual(identityToWire(fresh));
    expect((await http(t, 'GET', `/api/users/${alice.username}/devices`, { token: bob.token })).body.chain).toEqual([]);
    expect((await http(t, 'GET', '/api/devices', { token: alice.token })).body.devices.map((d: { id: string; name: string }) => [d.id, d.name])).toEqual([['1', 'Work laptop']]);
    // It publishes its prekeys as browser 1; the old laptop id is gone for good.
    const upload = await keyUpload({ identity: fresh });
    expect((await http(t, 'PUT', '/api/keys', { token: alice.token, json: upload.body })).status).toBe(200);
    expect((await http(t, 'GET', `/api/users/${alice.username}/bundle`, { token: bob.token })).body.identity).toEqual(identityToWire(fresh));
    expect((await http(t, 'GET', '/api/keys', { token: alice.token, headers: { [DEVICE_HEADER]: 'laptop' } })).status).toBe(403);
    // A reset with keys that do not sign themselves is refused.
    const broken = { ...identityToWire(await makeIdentity()), dhKey: identityToWire(fresh).dhKey };
    expect((await http(t, 'POST', '/api/devices/reset', { token: alice.token, json: { identity: broken, name: 'x' } })).status).toBe(400);
  });

  it('gives each browser a fair share of the queue limits', async () => {
    const small = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000', QUEUE_MAX_MESSAGES: '4' });
    const previous = t;
    t = small;
    try {
      const alice = await account();
      const bob = await account();
      await linkLaptop(alice);
      const b = await ready(bob.token);
      const sendTo = async (device: string, n: number) => {
        b.send({ type: 'send', to: alice.username, toDevice: device, id: `fair-share-${device}-${String(n).padStart(6, '0')}`, body: 'AAAA' });
        return b.next();
      };
      // Four messages for the account, two browsers: two each.
      expect(await sendTo('1', 1)).toMatchObject({ type: 'sent' });
      expect(await sendTo('1', 2)).toMatchObject({ type: 'sent' });
      expect(await sendTo('1', 3)).toMatchObject({ type: 'error', code: 'queue_full' });
      expect(await sendTo('laptop', 1)).toMatchObject({ type: 'sent' });
      expect(await sendTo('laptop', 2)).toMatchObject({ type: 'sent' });
      expect(await sendTo('laptop', 3)).toMatchObject({ type: 'error', code: 'queue_full' });
      b.close();
    } finally {
      t = previous;
      await small.close();
    }
  });
});
