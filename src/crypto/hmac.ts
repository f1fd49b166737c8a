// HMAC with SHA-256 (RFC 2104, FIPS 198-1): through Web Crypto, and synchronously through
// @noble/hashes for the ratchet's chain step. The chain step MACs one byte under a fresh key
// twice per message; through Web Crypto that is a key import and two promises, each a hop to
// Web Crypto's thread and back, which bench:ratchet measured at most of a message's cost. Both
// paths are tested against RFC 4231's vectors and against each other.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { subtle } from './subtle.ts';
import type { Bytes } from './bytes.ts';

async function importHmacKey(key: Uint8Array): Promise<CryptoKey> {
  return subtle().importKey('raw', new Uint8Array(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Bytes> {
  return new Uint8Array(await subtle().sign('HMAC', await importHmacKey(key), new Uint8Array(data)));
}

/** Several MACs under one key, synchronously, the key's pads computed once. */
export function hmacSha256EachSync(key: Uint8Array, messages: readonly Uint8Array[]): Bytes[] {
  const keyed = hmac.create(sha256, key);
  // Every message but the last MACs a copy of the keyed state; the last uses it up.
  return messages.map((m, i) => (i === messages.length - 1 ? keyed : keyed.clone()).update(m).digest());
}
