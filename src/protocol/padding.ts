// Padding of plaintext before encryption, so a ciphertext's length says little about its
// message. ISO/IEC 7816-4 padding (one 0x80 byte, then zeros), as Signal uses, up to a bucket:
// 256 bytes, then powers of two up to 64 KiB, then multiples of 64 KiB. Every short text,
// receipt and typing notice is the same 256 bytes on the wire.
import type { Bytes } from '../crypto/bytes.ts';

const MIN_BUCKET = 256;
const LARGE_STEP = 64 * 1024;

export function paddedLength(length: number): number {
  const needed = length + 1;
  if (needed <= MIN_BUCKET) return MIN_BUCKET;
  if (needed <= LARGE_STEP) return 2 ** Math.ceil(Math.log2(needed));
  return Math.ceil(needed / LARGE_STEP) * LARGE_STEP;
}

export function pad(plaintext: Uint8Array): Bytes {
  const out = new Uint8Array(paddedLength(plaintext.length));
  out.set(plaintext);
  out[plaintext.length] = 0x80;
  return out;
}

/** Undefined when the padding is not well-formed. */
export function unpad(padded: Uint8Array): Bytes | undefined {
  for (let i = padded.length - 1; i >= 0; i--) {
    if (padded[i] === 0x80) return padded.slice(0, i);
    if (padded[i] !== 0) return undefined;
  }
  return undefined;
}
