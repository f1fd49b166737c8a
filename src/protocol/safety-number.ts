// Safety numbers, computed exactly as libsignal's fingerprint.rs (displayable fingerprint,
// version 0 of the iterated hash): for each person
//   h₀ = SHA-512(0x0000 ‖ key ‖ stableId ‖ key),  hᵢ = SHA-512(hᵢ₋₁ ‖ key),  5,200 hashes in all;
// the first 30 bytes of the last hash, in six 5-byte big-endian chunks, each mod 100,000, give
// 30 digits; the two halves are joined smaller first, so both people see the same 60 digits.
// `key` is the identity signing key IK as published (65-byte uncompressed P-256 point) and
// `stableId` the UTF-8 username; the hash only sees bytes, so libsignal's own vector (with its
// Curve25519 keys and phone numbers) checks this code unchanged.
import { concatBytes, utf8, type Bytes } from '../crypto/bytes.ts';
import { sha512 } from '../crypto/sha.ts';

export const SAFETY_NUMBER_ITERATIONS = 5200;
const FINGERPRINT_VERSION = Uint8Array.of(0x00, 0x00);

export async function fingerprintHash(identityKey: Uint8Array, stableId: Uint8Array, iterations = SAFETY_NUMBER_ITERATIONS): Promise<Bytes> {
  if (!Number.isInteger(iterations) || iterations <= 1 || iterations > 1_000_000) throw new RangeError('invalid iteration count');
  let hash = await sha512(concatBytes(FINGERPRINT_VERSION, identityKey, stableId, identityKey));
  for (let i = 1; i < iterations; i++) hash = await sha512(concatBytes(hash, identityKey));
  return hash;
}

export function displayDigits(hash: Uint8Array): string {
  if (hash.length < 30) throw new RangeError('fingerprint hash too short');
  let out = '';
  for (let chunk = 0; chunk < 6; chunk++) {
    let x = 0;
    // 5 bytes = 40 bits: exact in a double, unlike a 32-bit shift.
    for (let i = 0; i < 5; i++) x = x * 256 + hash[chunk * 5 + i]!;
    out += String(x % 100_000).padStart(5, '0');
  }
  return out;
}

export interface SafetyParty {
  stableId: string;
  identityKey: Uint8Array;
}

/** The 60-digit safety number between two people; the same whichever side computes it. */
export async function safetyNumber(a: SafetyParty, b: SafetyParty, iterations = SAFETY_NUMBER_ITERATIONS): Promise<string> {
  const [ha, hb] = await Promise.all([fingerprintHash(a.identityKey, utf8(a.stableId), iterations), fingerprintHash(b.identityKey, utf8(b.stableId), iterations)]);
  const [da, db] = [displayDigits(ha), displayDigits(hb)];
  return da < db ? da + db : db + da;
}

/** Twelve groups of five digits, as people read them aloud. */
export function groupDigits(digits: string): string[] {
  return digits.match(/\d{5}/g) ?? [];
}
