// AES-256-GCM (NIST SP 800-38D) through Web Crypto: 96-bit IVs, 128-bit tags. The caller
// supplies a fresh random IV per message; reusing one under the same key breaks GCM entirely,
// which is why no function here accepts a counter-style IV.
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

export const AES_KEY_BYTES = 32;
export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export class DecryptError extends Error {
  readonly code = 'decrypt_failed';
  constructor() {
    super('message could not be decrypted: wrong key, or the data was changed');
    this.name = 'DecryptError';
  }
}

/**
 * Our byte arrays as Web Crypto's BufferSource, without a copy. Web Crypto copies what it is
 * given when called, so a caller may reuse the array after; and Parley never makes a
 * SharedArrayBuffer, which is all the type excludes. (The copies this replaced were a fifth of
 * the ratchet's time: bench:ratchet.)
 */
function source(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes as Uint8Array<ArrayBuffer>;
}

export async function importAesKey(raw: Uint8Array, extractable = false): Promise<CryptoKey> {
  if (raw.length !== AES_KEY_BYTES) throw new TypeError('AES-256 key must be 32 bytes');
  return subtle().importKey('raw', source(raw), 'AES-GCM', extractable, ['encrypt', 'decrypt']);
}

async function asKey(key: CryptoKey | Uint8Array): Promise<CryptoKey> {
  return key instanceof Uint8Array ? importAesKey(key) : key;
}

export async function aesGcmEncrypt(key: CryptoKey | Uint8Array, iv: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Promise<Bytes> {
  if (iv.length !== GCM_IV_BYTES) throw new TypeError('AES-GCM IV must be 12 bytes');
  const ct = await subtle().encrypt(
    { name: 'AES-GCM', iv: source(iv), additionalData: source(ad), tagLength: 128 },
    await asKey(key),
    source(plaintext),
  );
  return new Uint8Array(ct);
}

/** Throws DecryptError for any failure of authentication, and for malformed input. */
export async function aesGcmDecrypt(key: CryptoKey | Uint8Array, iv: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Promise<Bytes> {
  if (iv.length !== GCM_IV_BYTES || ciphertext.length < GCM_TAG_BYTES) throw new DecryptError();
  try {
    const pt = await subtle().decrypt(
      { name: 'AES-GCM', iv: source(iv), additionalData: source(ad), tagLength: 128 },
      await asKey(key),
      source(ciphertext),
    );
    return new Uint8Array(pt);
  } catch {
    throw new DecryptError();
  }
}
