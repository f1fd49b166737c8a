// Frames on the RTCDataChannel between two browsers. Everything after the handshake is an
// AES-GCM box; the handshake itself carries only ephemeral public keys.
import { z } from 'zod';
import { boundedBytesB64, bytesB64, p256PublicKey } from './fields.ts';

export const PEER_MAX_FRAME_CHARS = 96 * 1024;
export const PEER_MAX_BOX_BYTES = 64 * 1024;

export const peerFrame = z.discriminatedUnion('t', [
  z.object({ t: z.literal('hello'), v: z.literal(0), eph: p256PublicKey('eph') }),
  z.object({ t: z.literal('box'), seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), iv: bytesB64(12, 'iv'), ct: boundedBytesB64(PEER_MAX_BOX_BYTES, 'ct') }),
]);
export type PeerFrame = z.infer<typeof peerFrame>;

/** What travels inside a box, once decrypted. */
export const chatPayload = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), id: z.string().min(1).max(64), text: z.string().min(1).max(16 * 1024), sentAt: z.number().int() }),
  /** Sent first under the new key: proves both sides derived the same one. */
  z.object({ type: z.literal('confirm') }),
  z.object({ type: z.literal('bye') }),
]);
export type ChatPayload = z.infer<typeof chatPayload>;
