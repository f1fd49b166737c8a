// Files travel beside the ratchet, not through it (as Signal's attachments do): the offer,
// sent inside the ratchet, carries a fresh random 256-bit key for this one file; each chunk is
// then sealed with AES-256-GCM under that key with a fresh random IV, and the associated data
// names the file, the chunk's index and the number of chunks, so no chunk can be moved within
// a file, to another file, or used to shorten one. Integrity of the whole, across resumes, comes
// from the root hash sent inside the ratchet at the end:
//   root = SHA-256(SHA-256(chunk₀) ‖ SHA-256(chunk₁) ‖ … ‖ SHA-256(chunkₙ₋₁))
// Frame on the channel:  0x02 ‖ file id (16) ‖ index (u32 BE) ‖ IV (12) ‖ ciphertext+tag.
// (0x02 cannot start a ratchet envelope, whose first byte is its version, 0x01.)
import { concatBytes, u32be, utf8, type Bytes } from '../crypto/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt, GCM_IV_BYTES, GCM_TAG_BYTES } from '../crypto/aead.ts';
import type { RandomSource } from '../crypto/random.ts';
import { sha256 } from '../crypto/sha.ts';
import { ProtocolError } from './errors.ts';

export const FILE_FRAME_TAG = 0x02;
export const FILE_ID_BYTES = 16;
export const FILE_KEY_BYTES = 32;
/** 64 KiB of plaintext per chunk: one DataChannel message well under Chromium's 256 KiB limit. */
export const FILE_CHUNK_BYTES = 64 * 1024;
const HEADER_BYTES = 1 + FILE_ID_BYTES + 4;
const AD_LABEL = utf8('Parley v1 file chunk');

export interface ChunkFrame {
  fileId: Bytes;
  index: number;
}

function associatedData(fileId: Uint8Array, index: number, total: number): Bytes {
  return concatBytes(AD_LABEL, fileId, u32be(index), u32be(total));
}

export function chunkCount(size: number, chunkBytes = FILE_CHUNK_BYTES): number {
  return Math.max(1, Math.ceil(size / chunkBytes));
}

export async function sealChunk(key: CryptoKey, fileId: Uint8Array, index: number, total: number, plaintext: Uint8Array, random: RandomSource): Promise<Bytes> {
  if (fileId.length !== FILE_ID_BYTES || index < 0 || index >= total) throw new RangeError('chunk index out of range');
  const iv = random(GCM_IV_BYTES);
  const ct = await aesGcmEncrypt(key, iv, plaintext, associatedData(fileId, index, total));
  return concatBytes(Uint8Array.of(FILE_FRAME_TAG), fileId, u32be(index), iv, ct);
}

/** Reads the header of a chunk frame; undefined if it is not one. */
export function peekChunk(frame: Uint8Array): ChunkFrame | undefined {
  if (frame.length < HEADER_BYTES + GCM_IV_BYTES + GCM_TAG_BYTES || frame[0] !== FILE_FRAME_TAG) return undefined;
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { fileId: frame.slice(1, 1 + FILE_ID_BYTES), index: view.getUint32(1 + FILE_ID_BYTES, false) };
}

/** Throws ProtocolError('decrypt_failed') for a chunk that was altered, moved or is foreign. */
export async function openChunk(key: CryptoKey, fileId: Uint8Array, total: number, frame: Uint8Array): Promise<{ index: number; plaintext: Bytes }> {
  const head = peekChunk(frame);
  if (!head || head.index >= total || head.fileId.some((b, i) => b !== fileId[i])) throw new ProtocolError('malformed_message', 'not a chunk of this file');
  const iv = frame.subarray(HEADER_BYTES, HEADER_BYTES + GCM_IV_BYTES);
  try {
    const plaintext = await aesGcmDecrypt(key, iv, frame.subarray(HEADER_BYTES + GCM_IV_BYTES), associatedData(fileId, head.index, total));
    return { index: head.index, plaintext };
  } catch {
    throw new ProtocolError('decrypt_failed', 'a file chunk could not be decrypted');
  }
}

export function chunkHash(plaintext: Uint8Array): Promise<Bytes> {
  return sha256(plaintext);
}

export function rootHash(chunkHashes: Uint8Array): Promise<Bytes> {
  return sha256(chunkHashes);
}
