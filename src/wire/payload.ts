// What travels inside a ratchet message, once decrypted: typed payloads, JSON-encoded and then
// padded by the protocol. The server never sees these; the peer's browser validates them like
// any other input, since a compromised peer is still outside input.
import { z } from 'zod';

/** Characters in one text message; its UTF-8 (≤ 16 KiB) pads to one 16 KiB bucket. */
export const MAX_TEXT_CHARS = 4000;
export const MAX_RECEIPT_IDS = 100;

/** "sha-256 AB:CD:…" as in an SDP a=fingerprint line (RFC 8122 §5). */
const dtlsFingerprint = z.string().min(1).max(256);

export const payload = z.discriminatedUnion('type', [
  /** `seq` counts this sender's messages in the conversation, so the receiver can order them. */
  z.object({
    type: z.literal('text'),
    id: z.string().min(1).max(64),
    text: z.string().min(1).max(MAX_TEXT_CHARS),
    sentAt: z.number().int().nonnegative(),
    seq: z.number().int().nonnegative(),
  }),
  /** The recipient's device has stored these messages (delivered) or the person has seen them (read). */
  z.object({ type: z.literal('receipt'), status: z.enum(['delivered', 'read']), ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_RECEIPT_IDS) }),
  /**
   * Channel binding: the DTLS fingerprints this side sees for both ends of the WebRTC
   * connection. Equal views on both sides mean no one sits between the two DTLS endpoints.
   */
  z.object({ type: z.literal('binding'), local: dtlsFingerprint, remote: dtlsFingerprint }),
  z.object({ type: z.literal('bye') }),
  /** The sender is writing (true) or stopped (false). Sent only to someone online; never stored. */
  z.object({ type: z.literal('typing'), active: z.boolean() }),
]);
export type Payload = z.infer<typeof payload>;
