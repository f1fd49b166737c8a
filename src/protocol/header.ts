// The ratchet message header (Double Ratchet §3.1: dh, pn, n), encoded as
//   dh (65-byte uncompressed P-256 point) ‖ pn (u32 BE) ‖ n (u32 BE)  = 73 bytes.
// The encoding is part of the associated data, so any change to a header fails decryption.
import { writeU32be, type Bytes } from '../crypto/bytes.ts';

export const HEADER_BYTES = 73;

export interface Header {
  dh: Bytes;
  pn: number;
  n: number;
}

export function encodeHeader(h: Header): Bytes {
  const out = new Uint8Array(HEADER_BYTES);
  out.set(h.dh);
  writeU32be(out, 65, h.pn);
  writeU32be(out, 69, h.n);
  return out;
}

export function decodeHeader(bytes: Uint8Array): Header | undefined {
  if (bytes.length !== HEADER_BYTES || bytes[0] !== 0x04) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { dh: bytes.slice(0, 65), pn: view.getUint32(65, false), n: view.getUint32(69, false) };
}
