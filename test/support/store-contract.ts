// The Store contract: what the services rely on from any adapter, run once per adapter by
// test/server/store.test.ts. "Another handle" is a second connection to the same database, as a
// second server process holds; the concurrency cases spread their calls over both handles.
import { afterEach, describe, expect, it } from 'vitest';
import type { IdentityRecord, QueueLimits, QueuedEnvelope, Store } from '../../src/server/store/types.ts';
import type { OpenedStore, StoreHarness } from './store-harness.ts';

const identityOf = (fill: number): IdentityRecord => ({
  signingKey: new Uint8Array(65).fill(fill),
  dhKey: new Uint8Array(65).fill(fill + 1),
  dhKeySignature: new Uint8Array(64).fill(fill + 2),
  updatedAt: fill,
});
const user = (id: string, username = id) => ({ id, username, passwordHash: `hash-${id}`, createdAt: 1000 });
const key = (id: number) => ({ id, publicKey: new Uint8Array(65).fill(id % 256) });
const signed = (spk: number, at = 1) => ({
  signedPreKey: { id: spk, publicKey: new Uint8Array(65).fill(1), signature: new Uint8Array(64).fill(2) },
  pqPreKey: { id: spk + 1000, publicKey: new Uint8Array(1184).fill(3), signature: new Uint8Array(64).fill(4) },
  updatedAt: at,
});
const roomy: QueueLimits = { maxCount: 1000, maxBytes: 1 << 20, maxAgeMs: 86_400_000 };
const envelope = (recipientId: string, senderId: string, clientId: string, size = 10, createdAt = 5000): Omit<QueuedEnvelope, 'qid'> => ({
  recipientId,
  recipientDevice: '1',
  senderId,
  senderDevice: '1',
  senderName: `name-of-${senderId}`,
  clientId,
  body: new Uint8Array(size).fill(clientId.length % 256),
  createdAt,
});
const cid = (n: number) => `client-id-${String(n).padStart(8, '0')}`;

async function withUsers(store: Store, ...ids: string[]): Promise<void> {
  for (const [i, id] of ids.entries()) expect(await store.users.create(user(id), identityOf(10 + i))).toBe('ok');
}

export function storeContract(harness: StoreHarness): void {
  let opened: OpenedStore | undefined;
  const open = async () => (opened = await harness.open());
  afterEach(async () => {
    await opened?.dispose();
    opened = undefined;
  });

  describe(`${harness.name} store: users and identities`, () => {
    it('creates a user with their identity, finds them by name and id, and refuses a taken name', async () => {
      const { store } = await open();
      expect(await store.users.create(user('u1', 'alice'), identityOf(4))).toBe('ok');
      expect(await store.users.create(user('u2', 'alice'), identityOf(7))).toBe('taken');
      expect(await store.users.findByUsername('alice')).toEqual({ id: 'u1', username: 'alice', passwordHash: 'hash-u1', createdAt: 1000, tokensValidAfter: 0 });
      expect(await store.users.findById('u1')).toMatchObject({ username: 'alice' });
      expect(await store.users.findById('u2')).toBeUndefined();
      expect(await store.users.findByUsername('bob')).toBeUndefined();
      expect(await store.identities.get('u1')).toEqual(identityOf(4));
      expect(await store.identities.get('u2')).toBeUndefined();
    });

    it('changes a password hash', async () => {
      const { store } = await open();
      await withUsers(store, 'u1');
      await store.users.setPasswordHash('u1', 'new-hash');
      expect((await store.users.findById('u1'))?.passwordHash).toBe('new-hash');
      expect((await store.users.findById('u1'))?.tokensValidAfter).toBe(0);
    });

    it('changes a password and the token cut-off together', async () => {
      const { store } = await open();
      await withUsers(store, 'u1');
      await store.users.changePassword('u1', 'changed', 1_800_000_000);
      expect(await store.users.findById('u1')).toMatchObject({ passwordHash: 'changed', tokensValidAfter: 1_800_000_000 });
    });
  });

  describe(`${harness.name} store: contacts`, () => {
    it('lists contacts with mutuality, finds mutual pairs and blocks, and removes', async () => {
      const { store } = await open();
      await withUsers(store, 'a', 'b', 'c');
      await store.contacts.set('a', 'b', 'added', 1);
      expect(await store.contacts.list('a')).toEqual([{ contactId: 'b', username: 'b', state: 'added', mutual: false }]);
      expect(await store.contacts.mutual('a')).toEqual([]);
      await store.contacts.set('b', 'a', 'added', 2);
      expect((await store.contacts.list('a'))[0]?.mutual).toBe(true);
      expect(await store.contacts.mutual('a')).toEqual(['b']);
      await store.contacts.set('c', 'a', 'blocked', 3);
      expect(await store.contacts.blocks('c', 'a')).toBe(true);
      expect(await store.contacts.blocks('a', 'c')).toBe(false);
      expect(await store.contacts.blockedBy('c')).toEqual(['a']);
      expect(await store.contacts.blockedBy('a')).toEqual([]);
      await store.contacts.set('b', 'a', 'blocked', 4);
      expect(await store.contacts.blockedBy('b')).toEqual(['a']); // an added contact turned blocked
      expect(await store.contacts.mutual('a')).toEqual([]);
      await store.contacts.remove('a', 'b');
      expect(await store.contacts.list('a')).toEqual([]);
    });

    it('keeps everything for the next handle (a restart, or another process)', async () => {
      const o = await open();
      await withUsers(o.store, 'u1');
      await o.store.preKeys.putSigned('u1', signed(3));
      await o.store.preKeys.addOneTime('u1', [key(1), key(2)], 100);
      await o.store.close();
      const next = await o.another();
      expect(await next.users.findByUsername('u1')).toMatchObject({ id: 'u1' });
      expect(await next.identities.get('u1')).toEqual(identityOf(10));
      expect(await next.preKeys.getSigned('u1')).toEqual(signed(3));
      expect(await next.preKeys.countOneTime('u1')).toBe(2);
    });

    it('lets exactly one of many concurrent sign-ups take a name', async () => {
      const o = await open();
      const other = await o.another();
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : o.store).users.create(user(`u${i}`, 'contested'), identityOf(i))));
      expect(results.filter((r) => r === 'ok')).toHaveLength(1);
      const winner = await o.store.users.findByUsername('contested');
      expect(await o.store.identities.get(winner!.id)).toEqual(identityOf(Number(winner!.id.slice(1))));
    });

    it('keeps the prekeys when the same identity is published again, and drops them all for a new one', async () => {
      const { store } = await open();
      await withUsers(store, 'u1');
      await store.preKeys.putSigned('u1', signed(1));
      await store.preKeys.addOneTime('u1', [key(1), key(2), key(3)], 100);
      await store.identities.put('u1', { ...identityOf(10), updatedAt: 99 });
      expect(await store.preKeys.countOneTime('u1')).toBe(3);
      expect(await store.preKeys.getSigned('u1')).toEqual(signed(1));
      expect((await store.identities.get('u1'))?.updatedAt).toBe(99);

      await store.identities.put('u1', identityOf(50));
      expect(await store.identities.get('u1')).toEqual(identityOf(50));
      expect(await store.preKeys.countOneTime('u1')).toBe(0);
      expect(await store.preKeys.getSigned('u1')).toBeUndefined();
      expect(await store.preKeys.takeOneTime('u1')).toBeUndefined();
    });
  });

  describe(`${harness.name} store: prekeys`, () => {
    it('replaces the signed prekeys', async () => {
      const { store } = await open();
      await withUsers(store, 'u1');
      expect(await store.preKeys.getSigned('u1')).toBeUndefined();
      await store.preKeys.putSigned('u1', signed(1, 10));
      await store.preKeys.putSigned('u1', signed(2, 20));
      expect(await store.preKeys.getSigned('u1')).toEqual(signed(2, 20));
    });

    it('adds one-time prekeys up to the cap, ignoring ids it already has', async () => {
      const { store } = await open();
      await withUsers(store, 'u1', 'u2');
      expect(await store.preKeys.addOneTime('u1', [key(1), key(2), key(3)], 10)).toBe(3);
      expect(await store.preKeys.addOneTime('u1', [key(2), key(3), key(4), key(4), key(5)], 10)).toBe(5);
      expect(await store.preKeys.addOneTime('u1', [6, 7, 8, 9, 10, 11, 12].map(key), 10)).toBe(10);
      expect(await store.preKeys.addOneTime('u1', [key(13)], 10)).toBe(10);
      expect(await store.preKeys.countOneTime('u1')).toBe(10);
      expect(await store.preKeys.countOneTime('u2')).toBe(0);
      // Large ids (up to 2^32 - 2 on the wire) survive the round trip.
      expect(await store.preKeys.addOneTime('u2', [key(0xfffffffe)], 10)).toBe(1);
      expect((await store.preKeys.takeOneTime('u2'))?.id).toBe(0xfffffffe);
    });

    it('hands out one-time prekeys lowest id first, each once, then none', async () => {
      const { store } = await open();
      await withUsers(store, 'u1');
      await store.preKeys.addOneTime('u1', [key(7), key(3), key(5)], 100);
      const taken = [await store.preKeys.takeOneTime('u1'), await store.preKeys.takeOneTime('u1'), await store.preKeys.takeOneTime('u1')];
      expect(taken).toEqual([key(3), key(5), key(7)]);
      expect(await store.preKeys.takeOneTime('u1')).toBeUndefined();
      expect(await store.preKeys.countOneTime('u1')).toBe(0);
    });

    it('hands out each one-time prekey exactly once under concurrent fetches from two processes', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'u1');
      await o.store.preKeys.addOneTime('u1', Array.from({ length: 60 }, (_, i) => key(i + 1)), 100);
      const results = await Promise.all(Array.from({ length: 90 }, (_, i) => (i % 2 ? other : o.store).preKeys.takeOneTime('u1')));
      const ids = results.filter((r) => r !== undefined).map((r) => r!.id);
      expect(ids).toHaveLength(60);
      expect(new Set(ids).size).toBe(60);
      expect(await o.store.preKeys.countOneTime('u1')).toBe(0);
    });

    it('never passes the cap when two processes add one-time prekeys at once', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'u1');
      const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 10 }, (_, i) => key(b * 10 + i + 1)));
      await Promise.all(batches.map((batch, i) => (i % 2 ? other : o.store).preKeys.addOneTime('u1', batch, 25)));
      expect(await o.store.preKeys.countOneTime('u1')).toBe(25);
    });
  });

  describe(`${harness.name} store: refresh tokens`, () => {
    it('spends a token once, reports a second use as reuse, and treats expired and unknown tokens alike', async () => {
      const { store } = await open();
      await withUsers(store, 'u1');
      const record = { tokenHash: 't1', userId: 'u1', familyId: 'f', expiresAt: 1000, createdAt: 0 };
      await store.refreshTokens.insert(record);
      expect(await store.refreshTokens.consume('t1', 10)).toEqual({ status: 'ok', record });
      expect(await store.refreshTokens.consume('t1', 11)).toEqual({ status: 'reused', record });
      await store.refreshTokens.insert({ tokenHash: 't2', userId: 'u1', familyId: 'g', expiresAt: 1000, createdAt: 0 });
      expect(await store.refreshTokens.consume('t2', 1000)).toEqual({ status: 'unknown' });
      expect(await store.refreshTokens.consume('nope', 10)).toEqual({ status: 'unknown' });
      await store.refreshTokens.insert({ tokenHash: 't3', userId: 'u1', familyId: 'g', expiresAt: 5000, createdAt: 0 });
      expect(await store.refreshTokens.purgeExpired(1000)).toBe(2);
      expect((await store.refreshTokens.consume('t3', 1001)).status).toBe('ok');
    });

    it('lets exactly one of many concurrent uses from two processes spend a token; the rest see reuse', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'u1');
      await o.store.refreshTokens.insert({ tokenHash: 'raced', userId: 'u1', familyId: 'f', expiresAt: 10_000, createdAt: 0 });
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? other : o.store).refreshTokens.consume('raced', 100 + i)));
      expect(results.filter((r) => r.status === 'ok')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'reused')).toHaveLength(11);
    });

    it('revokes a family, or every token of a user', async () => {
      const { store } = await open();
      await withUsers(store, 'u1', 'u2');
      const t = (tokenHash: string, userId: string, familyId: string) => ({ tokenHash, userId, familyId, expiresAt: 10_000, createdAt: 0 });
      for (const r of [t('a1', 'u1', 'fa'), t('a2', 'u1', 'fa'), t('b1', 'u1', 'fb'), t('c1', 'u2', 'fc')]) await store.refreshTokens.insert(r);
      await store.refreshTokens.revokeFamily('fa');
      expect((await store.refreshTokens.consume('a1', 1)).status).toBe('unknown');
      expect((await store.refreshTokens.consume('a2', 1)).status).toBe('unknown');
      await store.refreshTokens.revokeUser('u1');
      expect((await store.refreshTokens.consume('b1', 1)).status).toBe('unknown');
      expect((await store.refreshTokens.consume('c1', 1)).status).toBe('ok');
    });
  });

  describe(`${harness.name} store: offline queue`, () => {
    it('stores envelopes and hands them back oldest first, after a qid, from a time, at most a limit', async () => {
      const { store } = await open();
      await withUsers(store, 'bob', 'alice', 'carol');
      const qids: number[] = [];
      for (let i = 0; i < 5; i++) {
        const r = await store.queue.enqueue(envelope('bob', i % 2 ? 'carol' : 'alice', cid(i), 10 + i, 5000 + i), roomy);
        expect(r.status).toBe('stored');
        qids.push((r as { qid: number }).qid);
      }
      await store.queue.enqueue(envelope('carol', 'alice', cid(99)), roomy);
      expect([...qids].sort((a, b) => a - b)).toEqual(qids);
      const all = await store.queue.pending('bob', 0, 100, 0);
      expect(all.map((e) => e.qid)).toEqual(qids);
      expect(all[1]).toEqual({ qid: qids[1], recipientId: 'bob', recipientDevice: '1', senderId: 'carol', senderDevice: '1', senderName: 'name-of-carol', clientId: cid(1), body: new Uint8Array(11).fill(cid(1).length), createdAt: 5001 });
      expect((await store.queue.pending('bob', qids[1]!, 2, 0)).map((e) => e.qid)).toEqual(qids.slice(2, 4));
      expect((await store.queue.pending('bob', 0, 100, 5003)).map((e) => e.qid)).toEqual(qids.slice(3));
      expect(await store.queue.pending('nobody', 0, 100, 0)).toEqual([]);
    });

    it('stores a retried envelope once, keyed by recipient, sender and envelope id', async () => {
      const { store } = await open();
      await withUsers(store, 'bob', 'alice', 'carol');
      expect((await store.queue.enqueue(envelope('bob', 'alice', cid(1)), roomy)).status).toBe('stored');
      expect(await store.queue.enqueue(envelope('bob', 'alice', cid(1)), roomy)).toEqual({ status: 'duplicate' });
      expect((await store.queue.enqueue(envelope('bob', 'carol', cid(1)), roomy)).status).toBe('stored');
      expect((await store.queue.enqueue(envelope('carol', 'alice', cid(1)), roomy)).status).toBe('stored');
      expect(await store.queue.pending('bob', 0, 100, 0)).toHaveLength(2);
      expect(await store.queue.depth()).toEqual({ envelopes: 3, bytes: 30 });
    });

    it('refuses past the count and byte limits per recipient, and acknowledging makes room again', async () => {
      const { store } = await open();
      await withUsers(store, 'bob', 'alice', 'carol');
      const limits = { maxCount: 3, maxBytes: 100, maxAgeMs: 1000 };
      for (let i = 0; i < 3; i++) expect((await store.queue.enqueue(envelope('bob', 'alice', cid(i)), limits)).status).toBe('stored');
      expect(await store.queue.enqueue(envelope('bob', 'alice', cid(3)), limits)).toEqual({ status: 'full', reason: 'count' });
      expect((await store.queue.enqueue(envelope('carol', 'alice', cid(4), 60), limits)).status).toBe('stored');
      expect(await store.queue.enqueue(envelope('carol', 'alice', cid(5), 41), limits)).toEqual({ status: 'full', reason: 'bytes' });
      expect((await store.queue.enqueue(envelope('carol', 'alice', cid(6), 40), limits)).status).toBe('stored');
      expect(await store.queue.depth()).toEqual({ envelopes: 5, bytes: 130 });

      const [first] = await store.queue.pending('bob', 0, 1, 0);
      expect(await store.queue.ack('bob', [first!.qid])).toBe(1);
      expect((await store.queue.enqueue(envelope('bob', 'alice', cid(3)), limits)).status).toBe('stored');
      expect(await store.queue.depth()).toEqual({ envelopes: 5, bytes: 130 });
    });

    it('deletes only the recipient\'s own acknowledged envelopes, and shrugs at nonsense qids', async () => {
      const { store } = await open();
      await withUsers(store, 'bob', 'alice', 'carol');
      await store.queue.enqueue(envelope('bob', 'alice', cid(1)), roomy);
      await store.queue.enqueue(envelope('bob', 'alice', cid(2)), roomy);
      await store.queue.enqueue(envelope('carol', 'alice', cid(3)), roomy);
      const [b1, b2] = await store.queue.pending('bob', 0, 10, 0);
      const [c1] = await store.queue.pending('carol', 0, 10, 0);
      expect(await store.queue.ack('carol', [b1!.qid])).toBe(0);
      expect(await store.queue.ack('bob', [b1!.qid, c1!.qid, 987_654_321, -5, 0, Number.MAX_SAFE_INTEGER])).toBe(1);
      expect(await store.queue.ack('bob', [b1!.qid])).toBe(0);
      expect((await store.queue.pending('bob', 0, 10, 0)).map((e) => e.qid)).toEqual([b2!.qid]);
      expect(await store.queue.pending('carol', 0, 10, 0)).toHaveLength(1);
      expect(await store.queue.depth()).toEqual({ envelopes: 2, bytes: 20 });
    });

    it('counts what waits for each device, for a catch-up to show its size', async () => {
      const { store } = await open();
      await withUsers(store, 'bob', 'alice', 'carol');
      expect(await store.queue.waiting('bob')).toBe(0);
      for (let i = 0; i < 3; i++) await store.queue.enqueue(envelope('bob', 'alice', cid(i)), roomy);
      await store.queue.enqueue(envelope('carol', 'alice', cid(9)), roomy);
      await store.queue.enqueue({ ...envelope('bob', 'alice', cid(10)), recipientDevice: '2' }, roomy);
      expect(await store.queue.waiting('bob')).toBe(3);
      expect(await store.queue.waiting('bob', '2')).toBe(1);
      expect(await store.queue.waiting('carol')).toBe(1);
      const [first] = await store.queue.pending('bob', 0, 1, 0);
      await store.queue.ack('bob', [first!.qid]);
      expect(await store.queue.waiting('bob')).toBe(2);
    });

    it('purges envelopes older than the cutoff and frees their room', async () => {
      const { store } = await open();
      await withUsers(store, 'bob', 'alice', 'carol');
      const limits = { maxCount: 2, maxBytes: 1000, maxAgeMs: 1000 };
      await store.queue.enqueue(envelope('bob', 'alice', cid(1), 10, 100), limits);
      await store.queue.enqueue(envelope('bob', 'alice', cid(2), 10, 200), limits);
      await store.queue.enqueue(envelope('carol', 'alice', cid(3), 10, 150), limits);
      expect((await store.queue.enqueue(envelope('bob', 'alice', cid(4), 10, 300), limits)).status).toBe('full');
      expect(await store.queue.purgeExpired(180)).toBe(2);
      expect(await store.queue.depth()).toEqual({ envelopes: 1, bytes: 10 });
      expect((await store.queue.enqueue(envelope('bob', 'alice', cid(4), 10, 300), limits)).status).toBe('stored');
      expect((await store.queue.pending('bob', 0, 10, 0)).map((e) => e.clientId)).toEqual([cid(2), cid(4)]);
    });

    it('keeps the count limit exact when two processes enqueue for one recipient at once', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'bob', 'alice');
      const limits = { maxCount: 7, maxBytes: 1 << 20, maxAgeMs: 1000 };
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? other : o.store).queue.enqueue(envelope('bob', 'alice', cid(i)), limits)));
      expect(results.filter((r) => r.status === 'stored')).toHaveLength(7);
      expect(results.filter((r) => r.status === 'full')).toHaveLength(23);
      expect(await o.store.queue.depth()).toEqual({ envelopes: 7, bytes: 70 });
    });

    it('keeps the byte limit exact when two processes enqueue for one recipient at once', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'bob', 'alice');
      const limits = { maxCount: 1000, maxBytes: 1000, maxAgeMs: 1000 };
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => (i % 2 ? other : o.store).queue.enqueue(envelope('bob', 'alice', cid(i), 100), limits)));
      expect(results.filter((r) => r.status === 'stored')).toHaveLength(10);
      expect(await o.store.queue.depth()).toEqual({ envelopes: 10, bytes: 1000 });
    });

    it('stores one copy when two processes receive the same retried envelope at once', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'bob', 'alice');
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : o.store).queue.enqueue(envelope('bob', 'alice', cid(1)), roomy)));
      expect(results.filter((r) => r.status === 'stored')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(9);
      expect(await o.store.queue.pending('bob', 0, 100, 0)).toHaveLength(1);
    });

    it('never lets a reader that follows qids skip an envelope while two processes enqueue', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'bob', 'alice');
      // What queue/delivery.ts does: ask for "after the last qid I saw" until all have come.
      const seen: number[] = [];
      let last = 0;
      let writing = true;
      const reader = (async () => {
        while (writing) {
          for (const e of await o.store.queue.pending('bob', last, 50, 0)) {
            seen.push(e.qid);
            last = e.qid;
          }
          await new Promise((r) => setImmediate(r));
        }
        for (const e of await o.store.queue.pending('bob', last, 1000, 0)) seen.push(e.qid);
      })();
      const writers = [o.store, other].map(async (s, w) => {
        for (let i = 0; i < 60; i += 6) {
          await Promise.all(Array.from({ length: 6 }, (_, j) => s.queue.enqueue(envelope('bob', 'alice', cid(w * 1000 + i + j)), roomy)));
        }
      });
      await Promise.all(writers);
      writing = false;
      await reader;
      const stored = (await o.store.queue.pending('bob', 0, 1000, 0)).map((e) => e.qid);
      expect(stored).toHaveLength(120);
      expect(seen).toEqual(stored);
    });
  });

  describe(`${harness.name} store: devices`, () => {
    it('keeps keys per device: device 1 is the v1 identity, another device has its own', async () => {
      const { store } = await open();
      await withUsers(store, 'u1');
      expect((await store.devices.list('u1')).map((d) => [d.deviceId, d.name, d.unlinkedAt])).toEqual([['1', '', null]]);
      await store.identities.put('u1', identityOf(40), 'laptop');
      await store.preKeys.putSigned('u1', signed(5), 'laptop');
      expect(await store.preKeys.addOneTime('u1', [key(1), key(2)], 100, 'laptop')).toBe(2);
      expect(await store.preKeys.addOneTime('u1', [key(1)], 100)).toBe(1);
      expect(await store.identities.get('u1')).toEqual(identityOf(10));
      expect(await store.identities.get('u1', 'laptop')).toEqual(identityOf(40));
      expect(await store.preKeys.getSigned('u1')).toBeUndefined();
      expect((await store.preKeys.getSigned('u1', 'laptop'))?.signedPreKey.id).toBe(5);
      expect(await store.preKeys.takeOneTime('u1', 'laptop')).toEqual(key(1));
      expect(await store.preKeys.countOneTime('u1', 'laptop')).toBe(1);
      expect(await store.preKeys.countOneTime('u1')).toBe(1);
      await store.preKeys.dropDevice('u1', 'laptop');
      expect(await store.identities.get('u1', 'laptop')).toBeUndefined();
      expect(await store.preKeys.getSigned('u1', 'laptop')).toBeUndefined();
      expect(await store.preKeys.countOneTime('u1', 'laptop')).toBe(0);
      expect(await store.identities.get('u1')).toEqual(identityOf(10));
      expect(await store.preKeys.countOneTime('u1')).toBe(1);
    });

    it('adds, renames, touches and unlinks devices, and never reuses an id', async () => {
      const { store } = await open();
      await withUsers(store, 'u1', 'u2');
      expect(await store.devices.add('u1', { deviceId: 'laptop', name: 'Chromium on Linux', createdAt: 2000, lastSeenAt: 2000 })).toBe('ok');
      expect(await store.devices.add('u1', { deviceId: 'laptop', name: 'again', createdAt: 3000, lastSeenAt: 3000 })).toBe('exists');
      expect(await store.devices.add('u2', { deviceId: 'laptop', name: 'bob', createdAt: 3000, lastSeenAt: 3000 })).toBe('ok');
      await store.devices.rename('u1', 'laptop', 'Work laptop');
      await store.devices.touch('u1', 'laptop', 5000);
      await store.devices.touch('u1', 'laptop', 4000);
      await store.devices.unlink('u1', 'laptop', 6000);
      await store.devices.unlink('u1', 'laptop', 7000);
      expect(await store.devices.get('u1', 'laptop')).toEqual({ deviceId: 'laptop', name: 'Work laptop', createdAt: 2000, lastSeenAt: 5000, unlinkedAt: 6000 });
      expect((await store.devices.list('u1')).map((d) => d.deviceId)).toEqual(['1', 'laptop']);
      expect(await store.devices.add('u1', { deviceId: 'laptop', name: 'back', createdAt: 8000, lastSeenAt: 8000 })).toBe('exists');
      // A reset of the identity makes browser 1 new again, whatever became of it.
      await store.devices.unlink('u1', '1', 6500);
      await store.devices.relinkFirst('u1', 'Reset here', 9000);
      expect(await store.devices.get('u1', '1')).toEqual({ deviceId: '1', name: 'Reset here', createdAt: 9000, lastSeenAt: 9000, unlinkedAt: null });
      expect(await store.devices.get('u1', 'nope')).toBeUndefined();
    });

    it('appends device-list versions strictly one after another, also from two processes at once', async () => {
      const o = await open();
      const other = await o.another();
      await withUsers(o.store, 'u1');
      const list = (version: number, fill = version) => ({ version, body: new Uint8Array(120).fill(fill), signature: new Uint8Array(64).fill(fill) });
      expect(await o.store.devices.appendList('u1', list(2), 1)).toBe('conflict');
      expect(await o.store.devices.appendList('u1', list(1), 1)).toBe('ok');
      expect(await o.store.devices.appendList('u1', list(1, 9), 1)).toBe('conflict');
      const both = await Promise.all([o.store.devices.appendList('u1', list(2, 20), 2), other.devices.appendList('u1', list(2, 21), 2)]);
      expect([...both].sort()).toEqual(['conflict', 'ok']);
      const chain = await other.devices.chain('u1');
      expect(chain.map((l) => l.version)).toEqual([1, 2]);
      expect(chain[0]).toEqual(list(1));
      await o.store.devices.clearLists('u1');
      expect(await o.store.devices.chain('u1')).toEqual([]);
    });

    it('answers a link request once, only for its account and before it expires', async () => {
      const { store } = await open();
      await withUsers(store, 'u1', 'u2');
      const request = new Uint8Array(300).fill(7);
      expect(await store.linkRequests.insert({ id: 'link-0000000000000001', userId: 'u1', request, createdAt: 1000, expiresAt: 601_000 })).toBe('ok');
      expect(await store.linkRequests.insert({ id: 'link-0000000000000001', userId: 'u2', request, createdAt: 1000, expiresAt: 601_000 })).toBe('exists');
      await store.linkRequests.insert({ id: 'link-0000000000000002', userId: 'u1', request, createdAt: 1000, expiresAt: 2000 });
      expect(await store.linkRequests.countOpen('u1', 1500)).toBe(2);
      expect(await store.linkRequests.answer('link-0000000000000001', 'u2', new Uint8Array(5), 1500)).toBe('missing');
      expect(await store.linkRequests.answer('link-0000000000000002', 'u1', new Uint8Array(5), 3000)).toBe('missing');
      expect(await store.linkRequests.answer('link-0000000000000001', 'u1', new Uint8Array(5).fill(1), 1500)).toBe('ok');
      expect(await store.linkRequests.answer('link-0000000000000001', 'u1', new Uint8Array(5).fill(2), 1600)).toBe('used');
      expect(await store.linkRequests.get('link-0000000000000001')).toEqual({
        id: 'link-0000000000000001', userId: 'u1', request, answer: new Uint8Array(5).fill(1), createdAt: 1000, expiresAt: 601_000, usedAt: 1500,
      });
      expect(await store.linkRequests.countOpen('u1', 1500)).toBe(1);
      expect(await store.linkRequests.purgeExpired(3000)).toBe(1);
      expect(await store.linkRequests.get('link-0000000000000002')).toBeUndefined();
    });

    it('queues per device: its own envelopes, its own limits, dropped with the device', async () => {
      const { store } = await open();
      await withUsers(store, 'bob', 'alice');
      const tight: QueueLimits = { maxCount: 2, maxBytes: 1000, maxAgeMs: 86_400_000 };
      const toDevice = (device: string, n: number) => ({ ...envelope('bob', 'alice', cid(n)), recipientDevice: device });
      expect((await store.queue.enqueue(toDevice('1', 1), tight)).status).toBe('stored');
      expect((await store.queue.enqueue(toDevice('1', 2), tight)).status).toBe('stored');
      expect(await store.queue.enqueue(toDevice('1', 3), tight)).toEqual({ status: 'full', reason: 'count' });
      expect((await store.queue.enqueue(toDevice('laptop', 4), tight)).status).toBe('stored');
      expect((await store.queue.pending('bob', 0, 10, 0)).map((e) => e.clientId)).toEqual([cid(1), cid(2)]);
      const laptop = await store.queue.pending('bob', 0, 10, 0, 'laptop');
      expect(laptop.map((e) => [e.clientId, e.recipientDevice])).toEqual([[cid(4), 'laptop']]);
      // One device cannot acknowledge (delete) another's envelopes.
      expect(await store.queue.ack('bob', [laptop[0]!.qid])).toBe(0);
      expect(await store.queue.dropDevice('bob', 'laptop')).toBe(1);
      expect(await store.queue.pending('bob', 0, 10, 0, 'laptop')).toEqual([]);
      expect(await store.queue.depth()).toEqual({ envelopes: 2, bytes: 20 });
    });
  });
}
