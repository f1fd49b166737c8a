// SHA-2 digests (FIPS 180-4) through Web Crypto.
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

export async function sha256(data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().digest('SHA-256', new Uint8Array(data)));
}

export async function sha512(data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().digest('SHA-512', new Uint8Array(data)));
}
