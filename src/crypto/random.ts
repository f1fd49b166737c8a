// Randomness is passed in, never reached for, so protocol code can be replayed with fixed bytes
// in tests. This default draws from the platform CSPRNG (Web Crypto getRandomValues).
import type { Bytes } from './bytes.ts';

export type RandomSource = (length: number) => Bytes;

export const webRandom: RandomSource = (length) => {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call (Web Crypto §10.1.1).
  for (let offset = 0; offset < length; offset += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)));
  }
  return out;
};
