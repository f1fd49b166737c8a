// Base64url without padding (RFC 4648 §5): how every byte string travels in JSON on the wire.
// Strict on input: a non-canonical encoding (stray bits in the last character) is refused, so one
// byte string has exactly one text form and nothing can hide in the slack.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function encodeBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** Returns undefined for anything that is not canonical unpadded base64url. */
/** The platform's decoder where there is one (Chromium 140+, Node 25+): a catch-up decodes thousands of envelopes. */
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string, o: { alphabet: 'base64url'; lastChunkHandling: 'loose' }) => Uint8Array<ArrayBuffer> }).fromBase64;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function decodeBase64url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return undefined;
  if (nativeFromBase64) {
    // The same language as below: the alphabet only, no padding or spaces, and no stray bits in
    // the last character (which the platform's loose mode would ignore).
    if (!BASE64URL.test(text)) return undefined;
    const rest = text.length % 4;
    if (rest !== 0 && (LOOKUP[text.charCodeAt(text.length - 1)]! & (rest === 2 ? 0x0f : 0x03)) !== 0) return undefined;
    return nativeFromBase64(text, { alphabet: 'base64url', lastChunkHandling: 'loose' });
  }
  return decodeBase64urlPortable(text);
}

/** The decoder in plain JavaScript, for platforms without one (and to test the native path against). */
export function decodeBase64urlPortable(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let o = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? LOOKUP[c]! : -1;
    if (v < 0) return undefined;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** Length in bytes that a base64url text of `chars` characters decodes to. */
export function decodedLength(chars: number): number {
  return Math.floor((chars * 3) / 4);
}

export function encodedLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}
