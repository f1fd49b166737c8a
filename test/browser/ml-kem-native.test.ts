// @noble/post-quantum's ML-KEM-768 (our one code path) against Chromium's native Web Crypto
// ML-KEM-768 (WICG "Modern Algorithms in the Web Cryptography API"): two independent
// implementations of FIPS 203 must agree on keys from the same seed and on every shared secret.
import { describe, expect, it } from 'vitest';
import { kemDecapsulate, kemEncapsulate, kemKeygen } from '../../src/crypto/kem.ts';
import { webRandom } from '../../src/crypto/random.ts';

const ALG = { name: 'ML-KEM-768' };
type KemSubtle = SubtleCrypto & {
  encapsulateBits(alg: { name: string }, key: CryptoKey): Promise<{ sharedKey: ArrayBuffer; ciphertext: ArrayBuffer }>;
  decapsulateBits(alg: { name: string }, key: CryptoKey, ciphertext: BufferSource): Promise<ArrayBuffer>;
};
const subtle = crypto.subtle as KemSubtle;

describe('ML-KEM-768: noble against Chromium Web Crypto', () => {
  it('native encapsulation to a noble key opens with noble', async () => {
    for (let i = 0; i < 5; i++) {
      const { publicKey, secretKey } = kemKeygen(webRandom(64));
      const native = await subtle.importKey('raw-public' as 'raw', publicKey, ALG, true, ['encapsulateBits' as KeyUsage]);
      const { sharedKey, ciphertext } = await subtle.encapsulateBits(ALG, native);
      expect(kemDecapsulate(new Uint8Array(ciphertext), secretKey)).toEqual(new Uint8Array(sharedKey));
    }
  });

  it('noble encapsulation to a native key opens natively', async () => {
    for (let i = 0; i < 5; i++) {
      const pair = (await subtle.generateKey(ALG, true, ['encapsulateBits', 'decapsulateBits'] as unknown as KeyUsage[])) as CryptoKeyPair;
      const publicKey = new Uint8Array(await subtle.exportKey('raw-public' as 'raw', pair.publicKey));
      const { ciphertext, sharedSecret } = kemEncapsulate(publicKey, webRandom(32));
      expect(new Uint8Array(await subtle.decapsulateBits(ALG, pair.privateKey, ciphertext))).toEqual(sharedSecret);
    }
  });

  it('the same 64-byte seed gives the same key pair in both', async () => {
    const seed = webRandom(64);
    const { publicKey } = kemKeygen(seed);
    const nativePrivate = await subtle.importKey('raw-seed' as 'raw', seed, ALG, true, ['decapsulateBits' as KeyUsage]);
    const { ciphertext, sharedSecret } = kemEncapsulate(publicKey, webRandom(32));
    expect(new Uint8Array(await subtle.decapsulateBits(ALG, nativePrivate, ciphertext))).toEqual(sharedSecret);
  });
});
