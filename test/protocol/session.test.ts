// Alice and Bob in one process, through the whole protocol: session start with the PQ hybrid,
// the Double Ratchet, pinning, and every way a network or a server can mangle delivery.
import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts';
import { open, seal, startSession, hasSession } from '../../src/protocol/session-cipher.ts';
import { decodeEnvelope, encodeEnvelope } from '../../src/protocol/envelope.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';
import { MAX_SKIP } from '../../src/protocol/double-ratchet.ts';
import { createParty, startedPair, type Party } from '../support/protocol.ts';

const code = (e: unknown) => (e instanceof ProtocolError ? e.code : `not a ProtocolError: ${String(e)}`);
const send = (from: Party, to: Party, text: string) => seal(to.name, utf8(text), from.deps);
const recv = async (to: Party, from: Party, envelope: Uint8Array) => fromUtf8((await open(from.name, envelope, to.deps)).plaintext);

describe('session start', () => {
  it('lets Alice write to Bob while he is offline, and both continue in the ratchet', async () => {
    const [alice, bob] = await startedPair();
    const m1 = await send(alice, bob, 'first, while Bob was away');
    const m2 = await send(alice, bob, 'second');
    expect(decodeEnvelope(m1)?.kind).toBe('prekey');
    expect(decodeEnvelope(m2)?.kind).toBe('prekey');
    expect(await recv(bob, alice, m1)).toBe('first, while Bob was away');
    expect(await recv(bob, alice, m2)).toBe('second');
    expect(await recv(alice, bob, await send(bob, alice, 'reply'))).toBe('reply');
    const m3 = await send(alice, bob, 'after the reply');
    expect(decodeEnvelope(m3)?.kind).toBe('message'); // the reply proved Bob has the session
    expect(await recv(bob, alice, m3)).toBe('after the reply');
  });

  it('works without a one-time prekey (the directory ran out)', async () => {
    const alice = await createParty('alice');
    const bob = await createParty('bob');
    await startSession('bob', bob.bundle({ withOneTime: false }), alice.deps);
    expect(await recv(bob, alice, await send(alice, bob, 'hi'))).toBe('hi');
  });

  it('deletes the one-time prekey once used, and refuses a second session start naming it', async () => {
    const alice = await createParty('alice');
    const carol = await createParty('carol');
    const bob = await createParty('bob');
    const bundle = bob.bundle();
    const opkId = bundle.oneTimePreKey!.id;
    await startSession('bob', bundle, alice.deps);
    await startSession('bob', bundle, carol.deps); // a server that hands the same OPK out twice
    expect(await recv(bob, alice, await send(alice, bob, 'from alice'))).toBe('from alice');
    expect(await bob.preKeys.oneTimePreKey(opkId)).toBeUndefined();
    await expect(open('carol', await send(carol, bob, 'from carol'), bob.deps)).rejects.toSatisfy((e) => code(e) === 'unknown_prekey');
    expect(await hasSession('carol', bob.deps)).toBe(false);
  });

  it('treats a repeated first message as a duplicate, not as a new session', async () => {
    const [alice, bob] = await startedPair();
    const m1 = await send(alice, bob, 'once');
    expect(await recv(bob, alice, m1)).toBe('once');
    await expect(open('alice', m1, bob.deps)).rejects.toSatisfy((e) => code(e) === 'duplicate');
  });

  it('refuses a bundle whose prekey signature does not verify, and stores nothing', async () => {
    const alice = await createParty('alice');
    const bob = await createParty('bob');
    const mallory = await createParty('mallory');
    const bundle = bob.bundle();
    const forged = { ...bundle, signedPreKey: { ...bundle.signedPreKey, publicKey: mallory.bundle().signedPreKey.publicKey } };
    await expect(startSession('bob', forged, alice.deps)).rejects.toSatisfy((e) => code(e) === 'bad_prekey_signature');
    const pqForged = { ...bundle, pqPreKey: { ...bundle.pqPreKey, publicKey: mallory.bundle().pqPreKey.publicKey } };
    await expect(startSession('bob', pqForged, alice.deps)).rejects.toSatisfy((e) => code(e) === 'bad_prekey_signature');
    const dkForged = { ...bundle, identity: { ...bundle.identity, dhKey: mallory.publicIdentity.dhKey } };
    await expect(startSession('bob', dkForged, alice.deps)).rejects.toSatisfy((e) => code(e) === 'bad_identity_signature');
    expect(await hasSession('bob', alice.deps)).toBe(false);
    expect(alice.sessions.writes).toBe(0);
  });

  it('makes keys disagree when the KEM ciphertext is tampered with: nothing decrypts', async () => {
    const [alice, bob] = await startedPair();
    const env = decodeEnvelope(await send(alice, bob, 'pq'))!;
    if (env.kind !== 'prekey') throw new Error('expected a prekey message');
    const ct = new Uint8Array(env.initial.kemCiphertext);
    ct[100]! ^= 0x01;
    const tampered = encodeEnvelope({ ...env, initial: { ...env.initial, kemCiphertext: ct } });
    await expect(open('alice', tampered, bob.deps)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    expect(await hasSession('alice', bob.deps)).toBe(false);
    // The untampered message still works afterwards: the failure changed nothing.
    expect(await recv(bob, alice, encodeEnvelope(env))).toBe('pq');
  });

  it('refuses a repeated first message whose identity field was altered', async () => {
    const [alice, bob] = await startedPair();
    const mallory = await createParty('mallory');
    await recv(bob, alice, await send(alice, bob, 'first'));
    const env = decodeEnvelope(await send(alice, bob, 'second, still a prekey message'))!;
    if (env.kind !== 'prekey') throw new Error('expected a prekey message');
    const altered = encodeEnvelope({ ...env, initial: { ...env.initial, identity: mallory.publicIdentity } });
    await expect(open('alice', altered, bob.deps)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    expect(await recv(bob, alice, encodeEnvelope(env))).toBe('second, still a prekey message');
  });

  it("refuses an initial message whose sender's DH key is not signed by their identity key", async () => {
    const [alice, bob] = await startedPair();
    const mallory = await createParty('mallory');
    const env = decodeEnvelope(await send(alice, bob, 'x'))!;
    if (env.kind !== 'prekey') throw new Error('expected a prekey message');
    const swapped = encodeEnvelope({ ...env, initial: { ...env.initial, identity: { ...env.initial.identity, dhKey: mallory.publicIdentity.dhKey } } });
    await expect(open('alice', swapped, bob.deps)).rejects.toSatisfy((e) => code(e) === 'bad_identity_signature');
  });
});

describe('Double Ratchet', () => {
  it('handles long back-and-forth with a fresh DH ratchet on every change of speaker', async () => {
    const [alice, bob] = await startedPair();
    const ratchetKeys = new Set<string>();
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3; i++) {
        const env = await send(alice, bob, `a${round}.${i}`);
        ratchetKeys.add(Array.from(decodeEnvelope(env)!.sealed.header.dh).join());
        expect(await recv(bob, alice, env)).toBe(`a${round}.${i}`);
      }
      const env = await send(bob, alice, `b${round}`);
      ratchetKeys.add(Array.from(decodeEnvelope(env)!.sealed.header.dh).join());
      expect(await recv(alice, bob, env)).toBe(`b${round}`);
    }
    expect(ratchetKeys.size).toBe(12);
  });

  it('decrypts out-of-order messages within and across chains, each exactly once', async () => {
    const [alice, bob] = await startedPair();
    expect(await recv(bob, alice, await send(alice, bob, 'hello'))).toBe('hello');
    const a = [await send(alice, bob, 'a0'), await send(alice, bob, 'a1'), await send(alice, bob, 'a2')];
    expect(await recv(alice, bob, await send(bob, alice, 'turn'))).toBe('turn');
    const b = [await send(alice, bob, 'b0'), await send(alice, bob, 'b1')];
    // b-chain first, then the a-chain backwards.
    expect(await recv(bob, alice, b[1]!)).toBe('b1');
    expect(await recv(bob, alice, a[2]!)).toBe('a2');
    expect(await recv(bob, alice, b[0]!)).toBe('b0');
    expect(await recv(bob, alice, a[0]!)).toBe('a0');
    expect(await recv(bob, alice, a[1]!)).toBe('a1');
    for (const env of [...a, ...b]) await expect(open('alice', env, bob.deps)).rejects.toSatisfy((e) => code(e) === 'duplicate');
  });

  it('goes on after lost messages', async () => {
    const [alice, bob] = await startedPair();
    await recv(bob, alice, await send(alice, bob, 'start'));
    for (let i = 0; i < 10; i++) await send(alice, bob, `lost ${i}`);
    expect(await recv(bob, alice, await send(alice, bob, 'arrives'))).toBe('arrives');
    expect(await recv(alice, bob, await send(bob, alice, 'answer'))).toBe('answer');
  });

  it('reports a tampered header or body, and stays usable', async () => {
    const [alice, bob] = await startedPair();
    await recv(bob, alice, await send(alice, bob, 'start'));
    await recv(alice, bob, await send(bob, alice, 'reply'));
    const env = await send(alice, bob, 'intact');
    expect(decodeEnvelope(env)?.kind).toBe('message');
    for (const offset of [2 + 10, 2 + 66, 2 + 73 + 3, env.length - 1]) {
      const bad = new Uint8Array(env);
      bad[offset]! ^= 0x40;
      await expect(open('alice', bad, bob.deps)).rejects.toSatisfy((e) => ['decrypt_failed', 'bad_public_key', 'too_many_skipped'].includes(code(e)));
    }
    expect(await recv(bob, alice, env)).toBe('intact');
  });

  it(`refuses to skip more than ${MAX_SKIP} messages in one chain`, async () => {
    const [alice, bob] = await startedPair();
    await recv(bob, alice, await send(alice, bob, 'start'));
    const env = decodeEnvelope(await send(alice, bob, 'far'))!;
    const far = encodeEnvelope({ ...env, sealed: { ...env.sealed, header: { ...env.sealed.header, n: env.sealed.header.n + MAX_SKIP + 1 } } } as typeof env);
    await expect(open('alice', far, bob.deps)).rejects.toSatisfy((e) => code(e) === 'too_many_skipped');
    expect(await recv(bob, alice, encodeEnvelope(env))).toBe('far');
  });

  it('keeps working when state is reloaded from storage mid-conversation', async () => {
    const [alice, bob] = await startedPair();
    await recv(bob, alice, await send(alice, bob, 'before'));
    const pending = await send(alice, bob, 'in flight across the reload');
    // A "reload": fresh objects, only what the stores persisted (deep copies, like IndexedDB).
    const record = await bob.sessions.load('alice');
    const reloaded = await createParty('bob', { identity: bob.identity });
    reloaded.preKeys.signed.clear();
    await reloaded.sessions.store('alice', structuredClone(record!));
    expect(await recv(reloaded, alice, pending)).toBe('in flight across the reload');
    expect(await recv(alice, reloaded, await send(reloaded, alice, 'after'))).toBe('after');
  });

  it('gives forward secrecy: with today\'s state stolen, yesterday\'s ciphertext stays closed', async () => {
    const [alice, bob] = await startedPair();
    const yesterday: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      const env = await send(alice, bob, `yesterday ${i}`);
      yesterday.push(env);
      await recv(bob, alice, env);
      await recv(alice, bob, await send(bob, alice, `ack ${i}`));
    }
    // The thief copies everything Bob's device holds today: sessions and prekeys.
    const stolen = await createParty('bob', { identity: bob.identity });
    await stolen.sessions.store('alice', (await bob.sessions.load('alice'))!);
    for (const [id, k] of bob.preKeys.signed) stolen.preKeys.signed.set(id, k);
    for (const [id, k] of bob.preKeys.pq) stolen.preKeys.pq.set(id, k);
    stolen.preKeys.oneTime.clear();
    for (const env of yesterday) {
      await expect(open('alice', env, stolen.deps)).rejects.toBeInstanceOf(ProtocolError);
    }
  });

  it('recovers after a compromise: a stolen state cannot read messages after the next round trip', async () => {
    const [alice, bob] = await startedPair();
    await recv(bob, alice, await send(alice, bob, 'hi'));
    await recv(alice, bob, await send(bob, alice, 'hi back'));
    const thief = await createParty('alice', { identity: alice.identity });
    await thief.sessions.store('bob', (await alice.sessions.load('bob'))!);
    // Healing takes a new ratchet key from each side that the thief never saw: Alice's next
    // key comes with her first message after she hears from Bob, and Bob's answers it.
    await recv(bob, alice, await send(alice, bob, 'turn 1'));
    await recv(alice, bob, await send(bob, alice, 'turn 2'));
    await recv(bob, alice, await send(alice, bob, 'turn 3'));
    const secret = await send(bob, alice, 'after healing');
    await expect(open('bob', secret, thief.deps)).rejects.toBeInstanceOf(ProtocolError);
    expect(await recv(alice, bob, secret)).toBe('after healing');
  });

  it('converges when both start a session at once', async () => {
    const alice = await createParty('alice');
    const bob = await createParty('bob');
    await startSession('bob', bob.bundle(), alice.deps);
    await startSession('alice', alice.bundle(), bob.deps);
    const fromAlice = await send(alice, bob, 'crossing 1');
    const fromBob = await send(bob, alice, 'crossing 2');
    expect(await recv(bob, alice, fromAlice)).toBe('crossing 1');
    expect(await recv(alice, bob, fromBob)).toBe('crossing 2');
    for (let i = 0; i < 3; i++) {
      expect(await recv(bob, alice, await send(alice, bob, `a${i}`))).toBe(`a${i}`);
      expect(await recv(alice, bob, await send(bob, alice, `b${i}`))).toBe(`b${i}`);
    }
  });

  it('stores the new state before returning a plaintext, and nothing on failure', async () => {
    const [alice, bob] = await startedPair();
    const env = await send(alice, bob, 'x');
    const writes = bob.sessions.writes;
    await recv(bob, alice, env);
    expect(bob.sessions.writes).toBe(writes + 1);
    await expect(open('alice', env, bob.deps)).rejects.toBeInstanceOf(ProtocolError);
    await expect(open('alice', new Uint8Array([1, 1, 0]), bob.deps)).rejects.toSatisfy((e) => code(e) === 'malformed_message');
    await expect(open('alice', new Uint8Array([9, 1, 0]), bob.deps)).rejects.toSatisfy((e) => code(e) === 'unsupported_version');
    expect(bob.sessions.writes).toBe(writes + 1);
  });
});

describe('commit hook', () => {
  it('stores nothing when the caller\'s commit fails, so the message can be opened again', async () => {
    const [alice, bob] = await startedPair();
    await recv(bob, alice, await send(alice, bob, 'start'));
    const env = await send(alice, bob, 'keep me');
    const writes = bob.sessions.writes;
    await expect(open('alice', env, bob.deps, async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
    expect(bob.sessions.writes).toBe(writes);
    let committed: string | undefined;
    await open('alice', env, bob.deps, async (record, plaintext) => {
      committed = fromUtf8(plaintext);
      await bob.sessions.store('alice', record);
    });
    expect(committed).toBe('keep me');
    await expect(open('alice', env, bob.deps)).rejects.toSatisfy((e) => code(e) === 'duplicate');
  });
});

describe('key pinning', () => {
  it('pins the first identity key, and blocks sending to a changed one until accepted', async () => {
    const [alice, bob] = await startedPair();
    await recv(bob, alice, await send(alice, bob, 'hello'));
    // Bob reinstalls: new identity, new prekeys, same name.
    const newBob = await createParty('bob');
    await expect(startSession('bob', newBob.bundle(), alice.deps)).rejects.toSatisfy((e) => code(e) === 'identity_changed');
    // His first message under the new identity still decrypts, but is flagged…
    await startSession('alice', alice.bundle(), newBob.deps);
    const opened = await open('bob', await send(newBob, alice, 'it is me, new phone'), alice.deps);
    expect(fromUtf8(opened.plaintext)).toBe('it is me, new phone');
    expect(opened.trust).toBe('changed');
    // …and nothing goes out to him until Alice accepts the new key.
    await expect(send(alice, newBob, 'are you?')).rejects.toSatisfy((e) => code(e) === 'identity_changed');
    await alice.identities.pin('bob', newBob.identity.signing.publicRaw);
    expect(await recv(newBob, alice, await send(alice, newBob, 'welcome back'))).toBe('welcome back');
  });
});
