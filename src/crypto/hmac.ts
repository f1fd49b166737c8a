// HMAC with SHA-256 (RFC 2104, FIPS 198-1) through Web Crypto.
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

async function importHmacKey(key: Uint8Array): Promise<CryptoKey> {
  return subtle().importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().sign('HMAC', await importHmacKey(key), new Uint8Array(data)));
}

/** Several MACs under one key, importing it once (the KDF chain step needs two per message). */
export async function hmacSha256Each(key: Uint8Array, messages: Uint8Array[]): Promise<Bytes[]> {
  const k = await importHmacKey(key);
  return Promise.all(messages.map(async (m) => new Uint8Array(await subtle().sign('HMAC', k, new Uint8Array(m)))));
}
