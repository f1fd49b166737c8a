import { describe, expect, it } from 'vitest';
import { aesGcmDecrypt, aesGcmEncrypt, DecryptError } from '../../src/crypto/aead.ts';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import vectors from '../vectors/gcm-aes256.json' with { type: 'json' };

describe('AES-256-GCM', () => {
  for (const v of vectors.cases) {
    it(`matches ${v.name} of the GCM specification`, async () => {
      const ct = await aesGcmEncrypt(fromHex(v.key), fromHex(v.iv), fromHex(v.plaintext), fromHex(v.aad));
      expect(toHex(ct)).toBe(v.ciphertext + v.tag);
      const pt = await aesGcmDecrypt(fromHex(v.key), fromHex(v.iv), ct, fromHex(v.aad));
      expect(toHex(pt)).toBe(v.plaintext);
    });
  }

  it('refuses a changed ciphertext, tag, IV or associated data', async () => {
    const key = webRandom(32);
    const iv = webRandom(12);
    const ad = utf8('header');
    const ct = await aesGcmEncrypt(key, iv, utf8('attack at dawn'), ad);
    const flipped = (b: Uint8Array, i: number) => {
      const c = new Uint8Array(b);
      c[i]! ^= 1;
      return c;
    };
    await expect(aesGcmDecrypt(key, iv, flipped(ct, 0), ad)).rejects.toBeInstanceOf(DecryptError);
    await expect(aesGcmDecrypt(key, iv, flipped(ct, ct.length - 1), ad)).rejects.toBeInstanceOf(DecryptError);
    await expect(aesGcmDecrypt(key, flipped(iv, 3), ct, ad)).rejects.toBeInstanceOf(DecryptError);
    await expect(aesGcmDecrypt(key, iv, ct, concatBytes(ad, utf8('!')))).rejects.toBeInstanceOf(DecryptError);
    await expect(aesGcmDecrypt(webRandom(32), iv, ct, ad)).rejects.toBeInstanceOf(DecryptError);
  });

  it('refuses malformed input instead of throwing something else', async () => {
    const key = webRandom(32);
    await expect(aesGcmDecrypt(key, new Uint8Array(11), new Uint8Array(32), new Uint8Array(0))).rejects.toBeInstanceOf(DecryptError);
    await expect(aesGcmDecrypt(key, new Uint8Array(12), new Uint8Array(15), new Uint8Array(0))).rejects.toBeInstanceOf(DecryptError);
    await expect(aesGcmEncrypt(key, new Uint8Array(16), new Uint8Array(1), new Uint8Array(0))).rejects.toThrow(TypeError);
    await expect(aesGcmEncrypt(new Uint8Array(16), new Uint8Array(12), new Uint8Array(1), new Uint8Array(0))).rejects.toThrow(TypeError);
  });
});
