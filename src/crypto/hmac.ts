// HMAC with SHA-256 (RFC 2104, FIPS 198-1) through Web Crypto.
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  const k = await subtle().importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle().sign('HMAC', k, new Uint8Array(data)));
}
