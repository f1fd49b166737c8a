// ECDH over P-256 (NIST SP 800-56A), through Web Crypto. Public keys travel as the 65-byte
// uncompressed point (SEC 1 §2.3.3); private keys stay CryptoKeys and, unless a caller asks
// otherwise, cannot be exported.
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

const ALG = { name: 'ECDH', namedCurve: 'P-256' } as const;
export const P256_PUBLIC_KEY_BYTES = 65;

export interface EcdhKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicRaw: Bytes;
}

export async function generateEcdhKeyPair(extractable = false): Promise<EcdhKeyPair> {
  const pair = (await subtle().generateKey(ALG, extractable, ['deriveBits'])) as CryptoKeyPair;
  return { privateKey: pair.privateKey, publicKey: pair.publicKey, publicRaw: await exportEcdhPublic(pair.publicKey) };
}

export async function exportEcdhPublic(key: CryptoKey): Promise<Bytes> {
  return new Uint8Array(await subtle().exportKey('raw', key));
}

/** Throws if the bytes are not a point on P-256 (Web Crypto validates on import). */
export async function importEcdhPublic(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== P256_PUBLIC_KEY_BYTES || raw[0] !== 0x04) throw new TypeError('not an uncompressed P-256 point');
  return subtle().importKey('raw', new Uint8Array(raw), ALG, true, []);
}

/** Imports a private key from a JWK, for fixed test keys and vectors. */
export async function importEcdhPrivateJwk(jwk: JsonWebKey, extractable = false): Promise<CryptoKey> {
  return subtle().importKey('jwk', jwk, ALG, extractable, ['deriveBits']);
}

/** The 32-byte x-coordinate of the shared point, as X3DH and the Double Ratchet use it. */
export async function ecdh(privateKey: CryptoKey, publicKey: CryptoKey): Promise<Bytes> {
  return new Uint8Array(await subtle().deriveBits({ name: 'ECDH', public: publicKey }, privateKey, 256));
}
