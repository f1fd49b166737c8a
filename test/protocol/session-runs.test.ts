// Runs: several envelopes opened (or payloads sealed) against one loaded record and written once
// (a backlog from the queue, a burst). Each envelope must fare exactly as it would alone: the
// same plaintext, the same error, the same state after; only the number of writes differs.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromUtf8, utf8, type Bytes } from '../../src/crypto/bytes.ts';
import { open, openRun, seal, sealRun, startSession, type RunResult } from '../../src/protocol/session-cipher.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';
import { createParty, startedPair } from '../support/protocol.ts';

const texts = (results: RunResult[]) => results.map((r) => (r.ok ? fromUtf8(r.opened.plaintext) : `error:${r.error.code}`));

describe('openRun', () => {
  it('opens a backlog in order, first message included, with one write of the state', async () => {
    const [alice, bob] = await startedPair();
    const envelopes: Bytes[] = [];
    for (let i = 0; i < 40; i++) envelopes.push(await seal('bob', utf8(`m${i}`), alice.deps));
    const writesBefore = bob.sessions.writes;
    const results = await openRun('alice', envelopes, bob.deps);
    expect(texts(results)).toEqual(envelopes.map((_, i) => `m${i}`));
    expect(bob.sessions.writes - writesBefore).toBe(1);
    // Trust as one by one: the first message pins Alice's key, the rest find it pinned.
    expect(results.map((r) => r.ok && r.opened.trust)).toEqual(['new', ...Array(39).fill('trusted')]);
    // The one-time prekey is gone and Alice's key pinned, as after a single first message.
    expect(bob.preKeys.oneTime.size).toBe(4);
    expect(await bob.identities.trustOf('alice', alice.identity.signing.publicRaw)).toBe('trusted');
    // The state written is the one after the last message: the conversation goes on both ways.
    expect(fromUtf8((await open('bob', await seal('alice', utf8('reply'), bob.deps), alice.deps)).plaintext)).toBe('reply');
    expect(fromUtf8((await open('alice', await seal('bob', utf8('next'), alice.deps), bob.deps)).plaintext)).toBe('next');
  });

  it('gives a tampered envelope and a repeat their own error, and opens the rest', async () => {
    const [alice, bob] = await startedPair();
    const e = [] as Bytes[];
    for (let i = 0; i < 6; i++) e.push(await seal('bob', utf8(`m${i}`), alice.deps));
    const tampered = new Uint8Array(e[2]!);
    tampered[tampered.length - 1]! ^= 1;
    const results = await openRun('alice', [e[0]!, e[1]!, tampered, e[3]!, e[1]!, e[2]!, e[4]!, new Uint8Array([1, 9, 9])], bob.deps);
    expect(texts(results)).toEqual(['m0', 'm1', 'error:decrypt_failed', 'm3', 'error:duplicate', 'm2', 'm4', 'error:malformed_message']);
    // m5 was never delivered in the run; it opens afterwards from the state written.
    expect(fromUtf8((await open('alice', e[5]!, bob.deps)).plaintext)).toBe('m5');
  });

  it('writes nothing when nothing opens, and nothing when the commit fails', async () => {
    const [alice, bob] = await startedPair();
    const m = await seal('bob', utf8('kept'), alice.deps);
    const writes = bob.sessions.writes;
    expect(texts(await openRun('alice', [new Uint8Array([1, 1, 0])], bob.deps))).toEqual(['error:malformed_message']);
    expect(bob.sessions.writes).toBe(writes);
    await expect(openRun('alice', [m], bob.deps, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(bob.sessions.writes).toBe(writes);
    expect(bob.preKeys.oneTime.size).toBe(5); // the prekey stays until a write succeeds
    expect(texts(await openRun('alice', [m], bob.deps))).toEqual(['kept']);
  });

  it('hands the commit the record and every plaintext of the run', async () => {
    const [alice, bob] = await startedPair();
    const envelopes = [await seal('bob', utf8('a'), alice.deps), await seal('bob', utf8('b'), alice.deps)];
    const seen: string[][] = [];
    await openRun('alice', envelopes, bob.deps, async (record, plaintexts) => {
      expect(record.current).not.toBeNull();
      seen.push(plaintexts.map(fromUtf8));
      await bob.sessions.store('alice', record);
    });
    expect(seen).toEqual([['a', 'b']]);
  });

  it('refuses a second session start naming a one-time prekey the run already used', async () => {
    const bob = await createParty('bob');
    const bundle = bob.bundle();
    const alice1 = await createParty('alice', { identity: (await createParty('x')).identity });
    const alice2 = await createParty('alice', { identity: alice1.identity });
    await startSession('bob', bundle, alice1.deps);
    await startSession('bob', bundle, alice2.deps);
    const results = await openRun('alice', [await seal('bob', utf8('one'), alice1.deps), await seal('bob', utf8('two'), alice2.deps)], bob.deps);
    expect(texts(results)).toEqual(['one', 'error:unknown_prekey']);
  });

  it('matches opening one by one, whatever the order, losses and repeats (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 11 }), { minLength: 1, maxLength: 30 }), fc.array(fc.nat({ max: 29 }), { maxLength: 4 }), async (order, cuts) => {
        const [alice, bob] = await startedPair();
        const sent: Bytes[] = [];
        for (let i = 0; i < 12; i++) sent.push(await seal('bob', utf8(`m${i}`), alice.deps));
        const delivery = order.map((i) => sent[i]!);
        // Bob's twin opens one by one, from a copy of the same starting state.
        const twin = await createParty('bob', { identity: bob.identity });
        for (const [id, k] of bob.preKeys.oneTime) twin.preKeys.oneTime.set(id, k);
        for (const [id, k] of bob.preKeys.signed) twin.preKeys.signed.set(id, k);
        for (const [id, k] of bob.preKeys.pq) twin.preKeys.pq.set(id, k);
        const alone: string[] = [];
        for (const e of delivery) {
          try {
            alone.push(fromUtf8((await open('alice', e, twin.deps)).plaintext));
          } catch (err) {
            alone.push(`error:${(err as ProtocolError).code}`);
          }
        }
        // Bob opens the same delivery in runs cut at random places.
        const bounds = [...new Set([0, ...cuts.filter((c) => c < delivery.length), delivery.length])].sort((a, b) => a - b);
        const inRuns: string[] = [];
        for (let i = 0; i + 1 < bounds.length; i++) inRuns.push(...texts(await openRun('alice', delivery.slice(bounds[i], bounds[i + 1]), bob.deps)));
        expect(inRuns).toEqual(alone);
      }),
      { numRuns: 40 },
    );
  });
});

describe('sealRun', () => {
  it('seals a burst with one write, each envelope opening in order at the other end', async () => {
    const [alice, bob] = await startedPair();
    const writes = alice.sessions.writes;
    const envelopes = await sealRun('bob', ['a', 'b', 'c'].map(utf8), alice.deps);
    expect(alice.sessions.writes - writes).toBe(1);
    expect(texts(await openRun('alice', envelopes, bob.deps))).toEqual(['a', 'b', 'c']);
    // The state written is after the last: the next seal does not reuse a message number.
    expect(fromUtf8((await open('alice', await seal('bob', utf8('d'), alice.deps), bob.deps)).plaintext)).toBe('d');
  });

  it('refuses to seal for a changed identity, and writes nothing', async () => {
    const [alice, bob] = await startedPair();
    await alice.identities.pin('bob', new Uint8Array(65).fill(4));
    const writes = alice.sessions.writes;
    await expect(sealRun('bob', [utf8('x')], alice.deps)).rejects.toMatchObject({ code: 'identity_changed' });
    expect(alice.sessions.writes).toBe(writes);
    void bob;
  });
});
