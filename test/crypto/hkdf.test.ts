import { describe, expect, it } from 'vitest';
import { hkdfSha256 } from '../../src/crypto/hkdf.ts';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import vectors from '../vectors/rfc5869-hkdf-sha256.json' with { type: 'json' };

describe('HKDF-SHA-256 (RFC 5869)', () => {
  for (const v of vectors.cases) {
    it(`matches ${vectors.source}: ${v.name}`, async () => {
      const okm = await hkdfSha256(fromHex(v.ikm), fromHex(v.salt), fromHex(v.info), v.length);
      expect(toHex(okm)).toBe(v.okm);
    });
  }

  it('refuses output lengths the RFC does not allow', async () => {
    await expect(hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), 0)).rejects.toThrow(RangeError);
    await expect(hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), 255 * 32 + 1)).rejects.toThrow(RangeError);
  });
});
