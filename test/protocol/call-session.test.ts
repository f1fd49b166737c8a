// The v0 per-call key agreement: Alice (caller) and Bob (callee) in one process.
import { describe, expect, it } from 'vitest';
import { beginCallHandshake, type SecureChannel } from '../../src/protocol/call-session.ts';
import { publicIdentityOf, type LocalIdentity, type PublicIdentity } from '../../src/protocol/identity.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { makeIdentity } from '../support/identity.ts';

async function connect(alice: LocalIdentity, bob: LocalIdentity, opts: { callId?: string; bobAsSeenByAlice?: PublicIdentity } = {}) {
  const callId = opts.callId ?? 'call-0000000000000000';
  const a = await beginCallHandshake({ role: 'caller', callId, me: alice, peer: opts.bobAsSeenByAlice ?? publicIdentityOf(bob), random: webRandom });
  const b = await beginCallHandshake({ role: 'callee', callId, me: bob, peer: publicIdentityOf(alice), random: webRandom });
  const [aliceChannel, bobChannel] = await Promise.all([a.complete(b.ephemeralPublic), b.complete(a.ephemeralPublic)]);
  return { aliceChannel, bobChannel };
}

async function roundTrip(from: SecureChannel, to: SecureChannel, text: string): Promise<string> {
  return fromUtf8(await to.open(await from.seal(utf8(text))));
}

const code = (e: unknown) => (e instanceof ProtocolError ? e.code : String(e));

describe('v0 call key agreement', () => {
  it('lets Alice and Bob talk both ways', async () => {
    const [alice, bob] = [await makeIdentity(), await makeIdentity()];
    const { aliceChannel, bobChannel } = await connect(alice, bob);
    expect(await roundTrip(aliceChannel, bobChannel, 'hi bob')).toBe('hi bob');
    expect(await roundTrip(bobChannel, aliceChannel, 'hi alice')).toBe('hi alice');
    expect(await roundTrip(aliceChannel, bobChannel, 'again')).toBe('again');
  });

  it('uses a fresh IV for every message and never sends the plaintext', async () => {
    const [alice, bob] = [await makeIdentity(), await makeIdentity()];
    const { aliceChannel } = await connect(alice, bob);
    const one = await aliceChannel.seal(utf8('same text'));
    const two = await aliceChannel.seal(utf8('same text'));
    expect(one.iv).not.toEqual(two.iv);
    expect(one.ct).not.toEqual(two.ct);
    expect(Buffer.from(one.ct).includes(Buffer.from('same text'))).toBe(false);
  });

  it('gives two calls between the same people different keys', async () => {
    const [alice, bob] = [await makeIdentity(), await makeIdentity()];
    const first = await connect(alice, bob, { callId: 'call-1111111111111111' });
    const second = await connect(alice, bob, { callId: 'call-2222222222222222' });
    const box = await first.aliceChannel.seal(utf8('call one'));
    await expect(second.bobChannel.open(box)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
  });

  it('refuses a replayed, reordered or tampered box without losing its place', async () => {
    const [alice, bob] = [await makeIdentity(), await makeIdentity()];
    const { aliceChannel, bobChannel } = await connect(alice, bob);
    const m0 = await aliceChannel.seal(utf8('zero'));
    const m1 = await aliceChannel.seal(utf8('one'));
    await expect(bobChannel.open(m1)).rejects.toSatisfy((e) => code(e) === 'out_of_order');
    const tampered = { ...m0, ct: new Uint8Array(m0.ct) };
    tampered.ct[0]! ^= 0x80;
    await expect(bobChannel.open(tampered)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    expect(fromUtf8(await bobChannel.open(m0))).toBe('zero');
    await expect(bobChannel.open(m0)).rejects.toSatisfy((e) => code(e) === 'out_of_order');
    expect(fromUtf8(await bobChannel.open(m1))).toBe('one');
  });

  it('fails closed when the server hands out a swapped DH key', async () => {
    const [alice, bob, mallory] = [await makeIdentity(), await makeIdentity(), await makeIdentity()];
    // Swapped DK with Bob's signature: the signature check refuses it before any key is made.
    const swapped = { ...publicIdentityOf(bob), dhKey: mallory.dh.publicRaw };
    await expect(connect(alice, bob, { bobAsSeenByAlice: swapped })).rejects.toSatisfy((e) => code(e) === 'bad_identity_signature');
    // Mallory's whole identity instead of Bob's: the keys differ, so nothing Bob seals opens.
    const { aliceChannel, bobChannel } = await connect(alice, bob, { bobAsSeenByAlice: publicIdentityOf(mallory) });
    await expect(aliceChannel.open(await bobChannel.seal(utf8('x')))).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
  });

  it('refuses an ephemeral key that is not a curve point', async () => {
    const [alice, bob] = [await makeIdentity(), await makeIdentity()];
    const a = await beginCallHandshake({ role: 'caller', callId: 'call-3333333333333333', me: alice, peer: publicIdentityOf(bob), random: webRandom });
    const bogus = new Uint8Array(65);
    bogus[0] = 4;
    await expect(a.complete(bogus)).rejects.toSatisfy((e) => code(e) === 'bad_public_key');
  });
});
