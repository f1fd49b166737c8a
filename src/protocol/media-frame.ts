// End-to-end encryption of call media frames (DESIGN.md "Calls (v2)"), applied with encoded
// transforms between the browser's encoder and its packetizer, so a frame stays sealed through
// any relay, even one that someday terminates DTLS. In the manner of SFrame (RFC 9605), but
// with Web Crypto's AES-256-GCM and a random IV per frame instead of SFrame's counters and
// key ids: each side has one key per call, made from a secret it sent inside the ratchet.
//
// Frame:  clear header (n bytes) ‖ AES-GCM ciphertext ‖ tag (16) ‖ IV (12) ‖ n (1 byte)
//
// The first n bytes stay clear, as the WebRTC project's end-to-end encryption sample does,
// because the receiving browser's depacketizer reads them before any transform runs: VP8's
// frame tag and, on key frames, its start code and dimensions (RFC 6386 §9.1: 3 + 7 bytes),
// and Opus's TOC byte (RFC 6716 §3.1). They are authenticated as associated data, so they
// cannot be changed either. Knows nothing of calls, workers or WebRTC.
import { concatBytes, utf8, type Bytes } from '../crypto/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt, importAesKey, GCM_IV_BYTES, GCM_TAG_BYTES } from '../crypto/aead.ts';
import { hkdfSha256 } from '../crypto/hkdf.ts';
import type { RandomSource } from '../crypto/random.ts';
import { ProtocolError } from './errors.ts';

export const MEDIA_SECRET_BYTES = 32;
const KEY_INFO = utf8('Parley v2 media frame key');
const AD_LABEL = utf8('Parley v2 media frame');
/** The largest clear header any codec here needs (a VP8 key frame). */
const MAX_CLEAR_BYTES = 10;
const TRAILER_BYTES = GCM_IV_BYTES + 1;

export type MediaKind = 'audio' | 'video';

/** Bytes left clear: VP8 key frame 10, VP8 delta frame 3, Opus 1 (see the header comment). */
export function clearBytesFor(kind: MediaKind, keyFrame: boolean): number {
  if (kind === 'audio') return 1;
  return keyFrame ? 10 : 3;
}

/**
 * The AES-256-GCM key for one side's frames in one call: HKDF-SHA-256 (RFC 5869) over the
 * secret that side sent inside the ratchet, salted with the call id so that a secret can
 * never key two calls. Non-extractable.
 */
export async function deriveFrameKey(secret: Uint8Array, callId: string): Promise<CryptoKey> {
  if (secret.length !== MEDIA_SECRET_BYTES) throw new ProtocolError('malformed_message', 'a media secret is 32 bytes');
  return importAesKey(await hkdfSha256(secret, utf8(callId), KEY_INFO, 32));
}

function associatedData(header: Uint8Array): Bytes {
  return concatBytes(AD_LABEL, header);
}

export async function sealFrame(key: CryptoKey, frame: Uint8Array, clearBytes: number, random: RandomSource): Promise<Bytes> {
  const n = Math.min(clearBytes, frame.length, MAX_CLEAR_BYTES);
  const header = frame.subarray(0, n);
  const iv = random(GCM_IV_BYTES);
  const sealed = await aesGcmEncrypt(key, iv, frame.subarray(n), associatedData(header));
  return concatBytes(header, sealed, iv, Uint8Array.of(n));
}

/** Throws ProtocolError: 'malformed_message' for a frame not in this format, 'decrypt_failed' for the wrong key or a changed frame. */
export async function openFrame(key: CryptoKey, data: Uint8Array): Promise<Bytes> {
  if (data.length < GCM_TAG_BYTES + TRAILER_BYTES) throw new ProtocolError('malformed_message', 'not an encrypted media frame');
  const n = data[data.length - 1]!;
  if (n > MAX_CLEAR_BYTES || data.length < n + GCM_TAG_BYTES + TRAILER_BYTES) throw new ProtocolError('malformed_message', 'not an encrypted media frame');
  const header = data.subarray(0, n);
  const iv = data.subarray(data.length - TRAILER_BYTES, data.length - 1);
  try {
    const body = await aesGcmDecrypt(key, iv, data.subarray(n, data.length - TRAILER_BYTES), associatedData(header));
    return concatBytes(header, body);
  } catch {
    throw new ProtocolError('decrypt_failed', 'a media frame could not be decrypted');
  }
}
