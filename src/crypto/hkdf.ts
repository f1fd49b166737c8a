// HKDF with SHA-256 (RFC 5869), through Web Crypto. Tested against the RFC's appendix A vectors.
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

export async function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Promise<Bytes> {
  // RFC 5869 §2.3: L ≤ 255 · HashLen.
  if (!Number.isInteger(length) || length <= 0 || length > 255 * 32) throw new RangeError('HKDF length out of range');
  const key = await subtle().importKey('raw', new Uint8Array(ikm), 'HKDF', false, ['deriveBits']);
  const bits = await subtle().deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(salt), info: new Uint8Array(info) },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}
