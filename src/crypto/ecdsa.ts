// ECDSA over P-256 with SHA-256 (FIPS 186-5), through Web Crypto. Signatures are r ‖ s, 64
// bytes (IEEE P1363), which is what Web Crypto produces and verifies.
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const P256_SIGNATURE_BYTES = 64;

export interface SigningKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicRaw: Bytes;
}

export async function generateSigningKeyPair(extractable = false): Promise<SigningKeyPair> {
  const pair = (await subtle().generateKey(KEY_ALG, extractable, ['sign', 'verify'])) as CryptoKeyPair;
  const publicRaw = new Uint8Array(await subtle().exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicRaw };
}

export async function importVerifyKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== 65 || raw[0] !== 0x04) throw new TypeError('not an uncompressed P-256 point');
  return subtle().importKey('raw', new Uint8Array(raw), KEY_ALG, true, ['verify']);
}

export async function importSigningPrivateJwk(jwk: JsonWebKey, extractable = false): Promise<CryptoKey> {
  return subtle().importKey('jwk', jwk, KEY_ALG, extractable, ['sign']);
}

export async function sign(privateKey: CryptoKey, data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().sign(SIGN_ALG, privateKey, new Uint8Array(data)));
}

/** False for a wrong signature and for a malformed one; never throws on bad input. */
export async function verify(publicKey: CryptoKey, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  if (signature.length !== P256_SIGNATURE_BYTES) return false;
  try {
    return await subtle().verify(SIGN_ALG, publicKey, new Uint8Array(signature), new Uint8Array(data));
  } catch {
    return false;
  }
}
