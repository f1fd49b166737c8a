import { describe, expect, it } from 'vitest';
import { kdfCk, kdfRk } from '../../src/protocol/kdf.ts';
import { hkdfSha256 } from '../../src/crypto/hkdf.ts';
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import vector from '../vectors/libsignal-chain-key.json' with { type: 'json' };

describe('KDF_CK (Double Ratchet §5.2)', () => {
  it("reproduces libsignal's chain-key step", async () => {
    const { chainKey, messageKey } = kdfCk(fromHex(vector.chainKey));
    expect(toHex(chainKey)).toBe(vector.nextChainKey);
    // libsignal expands the message-key seed further; doing the same must give its keys.
    const expanded = await hkdfSha256(messageKey, new Uint8Array(32), utf8('WhisperMessageKeys'), 80);
    expect(toHex(expanded.subarray(0, 32))).toBe(vector.cipherKey);
    expect(toHex(expanded.subarray(32, 64))).toBe(vector.macKey);
  });

  it('never gives the same key twice along a chain', async () => {
    let ck = fromHex(vector.chainKey);
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const step = kdfCk(ck);
      for (const k of [step.chainKey, step.messageKey]) {
        expect(seen.has(toHex(k))).toBe(false);
        seen.add(toHex(k));
      }
      ck = step.chainKey;
    }
  });
});

describe('KDF_RK', () => {
  it('splits 64 bytes of HKDF(salt = root key, ikm = DH output) into root and chain key', async () => {
    const rk = fromHex('00'.repeat(32));
    const dh = fromHex('11'.repeat(32));
    const { rootKey, chainKey } = await kdfRk(rk, dh);
    const okm = await hkdfSha256(dh, rk, utf8('Parley v1 ratchet'), 64);
    expect(rootKey).toEqual(okm.subarray(0, 32));
    expect(chainKey).toEqual(okm.subarray(32));
  });
});
