// ML-KEM-768 (FIPS 203) from @noble/post-quantum: Chromium has it natively but Node 20 does
// not, and one code path for both is worth more than the native speed. Randomness is passed in
// (the 64-byte keygen seed d ‖ z of FIPS 203 §7.1 and the 32-byte message m of §7.2) so that
// tests can fix it. Sizes are Table 3 of FIPS 203 for ML-KEM-768.
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import type { Bytes } from './bytes.ts';

export const KEM_PUBLIC_KEY_BYTES = 1184;
export const KEM_SECRET_KEY_BYTES = 2400;
export const KEM_CIPHERTEXT_BYTES = 1088;
export const KEM_SHARED_SECRET_BYTES = 32;
export const KEM_KEYGEN_SEED_BYTES = 64;
export const KEM_ENCAPS_RANDOM_BYTES = 32;

export interface KemKeyPair {
  publicKey: Bytes;
  secretKey: Bytes;
}

export function kemKeygen(seed: Uint8Array): KemKeyPair {
  if (seed.length !== KEM_KEYGEN_SEED_BYTES) throw new TypeError('ML-KEM keygen seed must be 64 bytes');
  const { publicKey, secretKey } = ml_kem768.keygen(new Uint8Array(seed));
  return { publicKey: new Uint8Array(publicKey), secretKey: new Uint8Array(secretKey) };
}

/** Throws TypeError for a malformed public key (FIPS 203 §7.2 input checks). */
export function kemEncapsulate(publicKey: Uint8Array, random: Uint8Array): { ciphertext: Bytes; sharedSecret: Bytes } {
  if (publicKey.length !== KEM_PUBLIC_KEY_BYTES) throw new TypeError('ML-KEM-768 public key must be 1184 bytes');
  if (random.length !== KEM_ENCAPS_RANDOM_BYTES) throw new TypeError('ML-KEM encapsulation randomness must be 32 bytes');
  let out;
  try {
    out = ml_kem768.encapsulate(new Uint8Array(publicKey), new Uint8Array(random));
  } catch {
    throw new TypeError('ML-KEM-768 public key is malformed');
  }
  return { ciphertext: new Uint8Array(out.cipherText), sharedSecret: new Uint8Array(out.sharedSecret) };
}

/**
 * ML-KEM decapsulation never fails on a wrong ciphertext: implicit rejection (FIPS 203 §6.3)
 * returns a pseudorandom secret, so a tampered ciphertext shows up later as keys that disagree.
 */
export function kemDecapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Bytes {
  if (ciphertext.length !== KEM_CIPHERTEXT_BYTES) throw new TypeError('ML-KEM-768 ciphertext must be 1088 bytes');
  if (secretKey.length !== KEM_SECRET_KEY_BYTES) throw new TypeError('ML-KEM-768 secret key must be 2400 bytes');
  return new Uint8Array(ml_kem768.decapsulate(new Uint8Array(ciphertext), new Uint8Array(secretKey)));
}
