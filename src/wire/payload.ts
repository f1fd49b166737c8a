// What travels inside a ratchet message, once decrypted: typed payloads, JSON-encoded and then
// padded by the protocol. The server never sees these; the peer's browser validates them like
// any other input, since a compromised peer is still outside input.
import { z } from 'zod';
import { groupChange, groupId } from './group.ts';

/** Characters in one text message; its UTF-8 (≤ 16 KiB) pads to one 16 KiB bucket. */
export const MAX_TEXT_CHARS = 4000;
export const MAX_RECEIPT_IDS = 100;
/** Why a receiver stopped a file, when it can say. */
export const CANCEL_REASONS = ['no-space', 'not-saved'] as const;
export type CancelReason = (typeof CANCEL_REASONS)[number];

/** "sha-256 AB:CD:…" as in an SDP a=fingerprint line (RFC 8122 §5). */
const dtlsFingerprint = z.string().min(1).max(256);
/** A call's id: the signaling `callId` it belongs to (16–64 base64url characters). */
const callId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);
/** 32 random bytes, base64url. */
const secret32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/);
export const CALL_MEDIA = ['voice', 'video'] as const;
export type CallMedia = (typeof CALL_MEDIA)[number];

export const payload = z.discriminatedUnion('type', [
  /** `seq` counts this sender's messages in the conversation, so the receiver can order them. */
  z.object({
    type: z.literal('text'),
    id: z.string().min(1).max(64),
    text: z.string().min(1).max(MAX_TEXT_CHARS),
    sentAt: z.number().int().nonnegative(),
    seq: z.number().int().nonnegative(),
  }),
  /**
   * A copy of a text this account sent to `to`, for its other browsers (issue #17): shown there
   * as sent. Only ever accepted from a browser of the same account.
   */
  z.object({
    type: z.literal('sent-copy'),
    to: z.string().min(1).max(64),
    id: z.string().min(1).max(64),
    text: z.string().min(1).max(MAX_TEXT_CHARS),
    sentAt: z.number().int().nonnegative(),
    seq: z.number().int().nonnegative(),
  }),
  /** This account read these messages from `peer` in another of its browsers: read here too, no receipt. */
  z.object({ type: z.literal('read-sync'), peer: z.string().min(1).max(64), ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_RECEIPT_IDS) }),
  /** The recipient's device has stored these messages (delivered) or the person has seen them (read). */
  z.object({ type: z.literal('receipt'), status: z.enum(['delivered', 'read']), ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_RECEIPT_IDS) }),
  /**
   * Channel binding: the DTLS fingerprints this side sees for both ends of the WebRTC
   * connection. Equal views on both sides mean no one sits between the two DTLS endpoints.
   */
  z.object({ type: z.literal('binding'), local: dtlsFingerprint, remote: dtlsFingerprint }),
  /**
   * The sender closes the connection. `mismatch`: because a renegotiation named a DTLS
   * fingerprint other than the one both sides confirmed (the server swapped it); said here,
   * sealed and on the connection itself, so the other side learns why before the channel drops.
   * A reason this version does not know is dropped, not the goodbye.
   */
  z.object({ type: z.literal('bye'), reason: z.enum(['mismatch']).optional().catch(undefined) }),
  /**
   * A file offered over the direct channel. `key` (base64url, 32 bytes) encrypts its chunks; it
   * is only ever sent inside the ratchet. A repeated offer (same id) after a dropped channel asks
   * to resume.
   */
  z.object({
    type: z.literal('file-offer'),
    id: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
    name: z.string().min(1).max(255),
    size: z.number().int().min(0).max(2 ** 40),
    mime: z.string().max(127),
    chunks: z.number().int().min(1).max(2 ** 26),
    key: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
    sentAt: z.number().int().nonnegative(),
    seq: z.number().int().nonnegative(),
    thumbnail: z.string().max(48 * 1024).regex(/^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=]+$/).optional(),
    /**
     * A file to a group (issue #18): the same file and key go to each member, each over its own
     * direct channel and transfer; the member shows it in the group's conversation.
     */
    group: groupId.optional(),
  }),
  /** The receiver wants chunks from `next` on (0 for a new file). */
  z.object({ type: z.literal('file-resume'), id: z.string().max(64), next: z.number().int().min(0) }),
  /** All chunks are sent; `root` is the hash the receiver must get from what it wrote. */
  z.object({ type: z.literal('file-end'), id: z.string().max(64), root: z.string().regex(/^[0-9a-f]{64}$/) }),
  /** The receiver checked the file: complete and intact (ok), or not. */
  z.object({ type: z.literal('file-done'), id: z.string().max(64), ok: z.boolean() }),
  /**
   * Either side stops the transfer. `no-space`: the receiver's browser has no room for the rest
   * (refused before the first chunk, or a write that failed for lack of space); `not-saved`: a
   * write failed for another reason. Either lets the sender say why rather than "Cancelled". A
   * reason this version does not know (a newer peer's) is dropped rather than the whole cancel:
   * the transfer must stop on both sides whatever the wording.
   */
  z.object({ type: z.literal('file-cancel'), id: z.string().max(64), reason: z.enum(CANCEL_REASONS).optional().catch(undefined) }),
  /**
   * A voice or video call, sealed into the signaling offer (never queued, never stored). The
   * callee rings only for an invite whose `callId` is the offer's and whose `fingerprint` is the
   * offer's DTLS fingerprint. `frameKey`: the secret the caller's media frame key is derived
   * from (DESIGN.md "Calls"), or null when its browser cannot encrypt frames (no encoded
   * transforms). `relay`: the caller asked for relay-only ICE, so the callee keeps its own
   * address to itself too.
   */
  z.object({ type: z.literal('call-invite'), callId, media: z.enum(CALL_MEDIA), fingerprint: dtlsFingerprint, frameKey: secret32.nullable(), relay: z.boolean() }),
  /**
   * Sealed into the callee's answer: the answer's DTLS fingerprint as the callee made it, and
   * the secret of the callee's frame key (null unless both browsers can encrypt frames).
   */
  z.object({ type: z.literal('call-accept'), callId, fingerprint: dtlsFingerprint, frameKey: secret32.nullable() }),
  /** What this side sends now, so the other can say "muted" or show a placeholder for video. */
  z.object({ type: z.literal('call-state'), callId, muted: z.boolean(), camera: z.boolean(), screen: z.boolean() }),
  /** The sender is writing (true) or stopped (false). Sent only to someone online; never stored. */
  z.object({ type: z.literal('typing'), active: z.boolean() }),
  /**
   * Groups (issue #18): a new state of the group from an admin (or a member leaving), sent to
   * every member old and new and to the author's other browsers.
   */
  z.object({ type: z.literal('group-change'), change: groupChange }),
  /**
   * A text to a group, sent to each member on its own. `head`: the change the sender's view of
   * the group is at, so a member who has not heard of it yet (a new member's first words) holds
   * the text until it has. From the sender's own other browsers it is a copy of what it sent.
   */
  z.object({
    type: z.literal('group-text'),
    group: groupId,
    head: groupId,
    id: z.string().min(1).max(64),
    text: z.string().min(1).max(MAX_TEXT_CHARS),
    sentAt: z.number().int().nonnegative(),
    seq: z.number().int().nonnegative(),
  }),
  /** A member's browser stored (delivered) or its person saw (read) these group messages. */
  z.object({ type: z.literal('group-receipt'), group: groupId, status: z.enum(['delivered', 'read']), ids: z.array(z.string().min(1).max(64)).min(1).max(MAX_RECEIPT_IDS) }),
  /** Typing in a group; sent only to members online, never stored. */
  z.object({ type: z.literal('group-typing'), group: groupId, active: z.boolean() }),
]);
export type Payload = z.infer<typeof payload>;
