// Field schemas reused by every message type: byte strings of an exact size, ids, usernames as
// typed. Kept here so a P-256 key has one definition on the wire, whoever sends it.
import { z } from 'zod';
import { decodeBase64url, encodedLength } from './base64url.ts';

/** Base64url text that decodes to exactly `bytes` bytes (canonical form only). */
export function bytesB64(bytes: number, what: string) {
  const chars = encodedLength(bytes);
  return z
    .string()
    .length(chars, `${what} must be ${bytes} bytes, base64url-encoded`)
    .refine((s) => decodeBase64url(s)?.length === bytes, `${what} must be ${bytes} bytes, base64url-encoded`);
}

/** Base64url text of at most `maxBytes` bytes. */
export function boundedBytesB64(maxBytes: number, what: string) {
  return z
    .string()
    .min(1, `${what} is empty`)
    .max(encodedLength(maxBytes), `${what} is larger than ${maxBytes} bytes`)
    .refine((s) => decodeBase64url(s) !== undefined, `${what} must be base64url-encoded`);
}

/** An uncompressed P-256 public key: 0x04 ‖ X ‖ Y (SEC 1 §2.3.3), 65 bytes. */
export const p256PublicKey = (what: string) =>
  bytesB64(65, what).refine((s) => s.startsWith('B'), `${what} must be an uncompressed P-256 point`);

/** An ECDSA P-256 signature as Web Crypto makes it: r ‖ s, 64 bytes (IEEE P1363). */
export const p256Signature = (what: string) => bytesB64(64, what);

/** A username as typed; normalisation and the allow-list are applied by normalizeUsername. */
export const usernameInput = z.string().min(1, 'Username is required').max(128, 'Username is too long');

/** Random ids chosen by clients (call ids, message ids): 16–64 base64url characters. */
export const clientId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{16,64}$/, 'id must be 16–64 base64url characters');
