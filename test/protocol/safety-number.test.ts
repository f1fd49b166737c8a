import { describe, expect, it } from 'vitest';
import { displayDigits, fingerprintHash, groupDigits, safetyNumber } from '../../src/protocol/safety-number.ts';
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import vector from '../vectors/libsignal-fingerprint.json' with { type: 'json' };
import { randomIdentity } from '../support/protocol.ts';

describe('safety numbers', () => {
  it("reproduce libsignal's published fingerprint vector with its keys", async () => {
    const a = await fingerprintHash(fromHex(vector.alice.identityKey), utf8(vector.alice.stableId), vector.iterations);
    const b = await fingerprintHash(fromHex(vector.bob.identityKey), utf8(vector.bob.stableId), vector.iterations);
    expect(toHex(a.subarray(0, 32))).toBe(vector.alice.hashPrefix);
    expect(toHex(b.subarray(0, 32))).toBe(vector.bob.hashPrefix);
    const alice = { stableId: vector.alice.stableId, identityKey: fromHex(vector.alice.identityKey) };
    const bob = { stableId: vector.bob.stableId, identityKey: fromHex(vector.bob.identityKey) };
    expect(await safetyNumber(alice, bob)).toBe(vector.displayable);
    expect(await safetyNumber(bob, alice)).toBe(vector.displayable);
  });

  it('are 60 digits, the same on both sides, for our P-256 keys', async () => {
    const [a, b] = [await randomIdentity(), await randomIdentity()];
    const alice = { stableId: 'alice', identityKey: a.signing.publicRaw };
    const bob = { stableId: 'bob', identityKey: b.signing.publicRaw };
    const ab = await safetyNumber(alice, bob);
    expect(ab).toMatch(/^\d{60}$/);
    expect(await safetyNumber(bob, alice)).toBe(ab);
    expect(groupDigits(ab)).toHaveLength(12);
  });

  it('change when either key or either name changes', async () => {
    const [a, b, m] = [await randomIdentity(), await randomIdentity(), await randomIdentity()];
    const base = await safetyNumber({ stableId: 'alice', identityKey: a.signing.publicRaw }, { stableId: 'bob', identityKey: b.signing.publicRaw });
    expect(await safetyNumber({ stableId: 'alice', identityKey: a.signing.publicRaw }, { stableId: 'bob', identityKey: m.signing.publicRaw })).not.toBe(base);
    expect(await safetyNumber({ stableId: 'alice', identityKey: a.signing.publicRaw }, { stableId: 'bobby', identityKey: b.signing.publicRaw })).not.toBe(base);
  });

  it('encode 5-byte chunks mod 100000 with leading zeros', () => {
    const hash = new Uint8Array(30);
    hash.set([0, 0, 0, 0, 1], 0); // 1 → "00001"
    hash.set([0xff, 0xff, 0xff, 0xff, 0xff], 5); // 2^40 − 1 mod 100000 = 27775
    expect(displayDigits(hash).slice(0, 10)).toBe('0000127775');
    expect(() => displayDigits(new Uint8Array(29))).toThrow(RangeError);
  });
});
