// Frames on the signaling WebSocket. The server relays `signal` frames between two named users
// and reads nothing inside `data` beyond checking its shape: SDP and ICE candidates only, never
// message content. The sender of a relayed frame is set by the server from the verified token;
// a client cannot name itself.
import { z } from 'zod';
import { boundedBytesB64, clientId, usernameInput } from './fields.ts';
import { deviceIdField } from './api.ts';
import type { ErrorCode } from './errors.ts';

/** ws `maxPayload`: a frame larger than this closes the socket with 1009. */
export const SIGNALING_MAX_FRAME_BYTES = 32 * 1024;
/** Envelopes in one `send-many` frame (each also counts against the frame's size). */
export const SEND_MANY_MAX_ITEMS = 100;
export const SDP_MAX_CHARS = 16 * 1024;
/**
 * Largest envelope the offline queue takes: a text payload of 4,000 characters (≤ 16 KiB of
 * UTF-8) pads to 16 KiB, plus header, IV, tag and a prekey preamble; base64url of it fits a frame.
 */
export const QUEUE_MAX_ENVELOPE_BYTES = 22 * 1024;
/**
 * Queued envelopes one `ack` may name: a catch-up acknowledges what it stored in one frame per
 * batch, not one per envelope against the socket's rate limit. (v1 servers took 100, and
 * announce nothing: `ready.limits.ack` tells the browser.)
 */
export const ACK_MAX_IDS = 500;
/** Envelopes a connection is sent before it acknowledges any, and their bytes. */
export const DELIVERY_WINDOW = 1000;
export const DELIVERY_WINDOW_BYTES = 2 * 1024 * 1024;
/** Transient envelopes (typing notices) are small and never stored. */
export const TRANSIENT_MAX_BYTES = 4096;
/**
 * A call's offer carries its invitation (payload `call-invite`) sealed in the ratchet, and its
 * answer the callee's acceptance (`call-accept`): each names the sender's DTLS fingerprint, so a
 * certificate swapped in the SDP on the way is caught before any media, and the server relays
 * both unread. A prekey message (the first to someone) with its 256-byte padded payload fits
 * well inside.
 */
export const CALL_SEALED_MAX_BYTES = 4096;

const iceCandidate = z.object({
  candidate: z.string().max(1024),
  sdpMid: z.string().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
  usernameFragment: z.string().max(256).nullable().optional(),
});

export const signalData = z.discriminatedUnion('kind', [
  /**
   * Without `sealed`: the background direct channel between two contacts (never rings). With it:
   * a voice or video call, whose kind is known only inside the sealed invitation.
   */
  z.object({ kind: z.literal('offer'), sdp: z.string().min(1).max(SDP_MAX_CHARS), sealed: boundedBytesB64(CALL_SEALED_MAX_BYTES, 'sealed').optional() }),
  z.object({ kind: z.literal('answer'), sdp: z.string().min(1).max(SDP_MAX_CHARS), sealed: boundedBytesB64(CALL_SEALED_MAX_BYTES, 'sealed').optional() }),
  /** `candidate: null` marks the end of gathering. */
  z.object({ kind: z.literal('ice'), candidate: iceCandidate.nullable() }),
  /**
   * The callee says no, is already in a call, or refused the offer because its DTLS fingerprint
   * is not the one the caller sealed (`mismatch`: someone swapped it on the way).
   */
  z.object({ kind: z.literal('decline'), reason: z.enum(['declined', 'busy', 'mismatch']) }),
  /**
   * Either side ends the call (or the caller gives up before an answer). `answered`: the caller
   * tells the callee's other browsers that one of them took the call (issue #17).
   */
  z.object({ kind: z.literal('hangup'), reason: z.enum(['answered']).optional().catch(undefined) }),
  /** The callee lost the path (or changed networks) and asks the caller for an ICE restart offer. */
  z.object({ kind: z.literal('restart') }),
]);
export type SignalData = z.infer<typeof signalData>;

export const clientFrame = z.discriminatedUnion('type', [
  /** `device`: which of the account's browsers this is (absent: device "1", as a v1 browser). */
  z.object({ type: z.literal('auth'), token: z.string().min(1).max(4096), device: deviceIdField.optional() }),
  /** `toDevice`: which of the recipient's browsers (absent: device "1"). The same on `send` and `transient`. */
  z.object({ type: z.literal('signal'), to: usernameInput, toDevice: deviceIdField.optional(), callId: clientId, data: signalData }),
  z.object({ type: z.literal('ping') }),
  /** Store a ciphertext envelope for `to` (offline delivery). `id` makes retries idempotent. */
  z.object({ type: z.literal('send'), to: usernameInput, toDevice: deviceIdField.optional(), id: clientId, body: boundedBytesB64(QUEUE_MAX_ENVELOPE_BYTES, 'body') }),
  /**
   * Several `send`s in one frame (a group text fans out to every browser of every member): each
   * is stored and answered as if sent alone, in order. One frame against the rate limit; the
   * frame size limit bounds what it carries. Only to a server whose `ready` announced it.
   */
  z.object({
    type: z.literal('send-many'),
    items: z
      .array(z.object({ to: usernameInput, toDevice: deviceIdField.optional(), id: clientId, body: boundedBytesB64(QUEUE_MAX_ENVELOPE_BYTES, 'body') }))
      .min(1)
      .max(SEND_MANY_MAX_ITEMS),
  }),
  /** An envelope relayed only if the recipient is online right now, never stored (typing notices). */
  z.object({ type: z.literal('transient'), to: usernameInput, toDevice: deviceIdField.optional(), body: boundedBytesB64(TRANSIENT_MAX_BYTES, 'body') }),
  /** The recipient has stored these queued envelopes durably: delete them. */
  z.object({ type: z.literal('ack'), qids: z.array(z.number().int().positive()).min(1).max(ACK_MAX_IDS) }),
]);
export type ClientFrame = z.infer<typeof clientFrame>;

// `fromDevice`: which of the sender's browsers sent it (absent from a v1 server: device "1").
export type ServerFrame =
  /** `limits`: how fast this socket may send frames, so the browser paces itself rather than be refused. */
  /** `queued`: envelopes waiting for this browser as it connects (a catch-up's size, for its progress). */
  | { type: 'ready'; user: { id: string; username: string }; device?: string; limits?: { framesPerSecond: number; frameBurst: number; sendMany?: number; ack?: number }; queued?: number }
  | { type: 'signal'; from: string; fromDevice?: string; callId: string; data: SignalData }
  | { type: 'error'; code: ErrorCode; message: string; callId?: string; id?: string }
  | { type: 'pong' }
  /** A queued envelope for you; `qid` is the server's delivery id, acknowledged with `ack`. */
  | { type: 'envelope'; qid: number; from: string; fromDevice?: string; body: string; sentAt: number }
  /** The server holds the envelope you sent with this id. */
  | { type: 'sent'; id: string }
  /** A mutual contact came online or went offline. */
  | { type: 'presence'; user: string; online: boolean }
  | { type: 'transient'; from: string; fromDevice?: string; body: string }
  /** `user` (a contact, or you) published a new list of browsers: fetch it before sending again. */
  | { type: 'devices'; user: string }
  /** This browser was unlinked from its account: wipe its keys. The socket closes after this. */
  | { type: 'unlinked' };

const errorFrame = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  callId: z.string().optional(),
  id: z.string().optional(),
});

/** What the browser accepts from the server: checked too, since a proxy can be wrong. */
export const serverFrame = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ready'),
    user: z.object({ id: z.string(), username: z.string() }),
    device: deviceIdField.optional(),
    limits: z
      .object({
        framesPerSecond: z.number().positive().max(1_000_000),
        frameBurst: z.number().int().positive().max(1_000_000),
        /** Items a `send-many` may carry; absent: the server takes no `send-many`. */
        sendMany: z.number().int().positive().max(SEND_MANY_MAX_ITEMS).optional(),
        /** qids one `ack` may carry; absent: 100, as v1 servers took. */
        ack: z.number().int().positive().max(ACK_MAX_IDS).optional(),
      })
      .optional(),
    queued: z.number().int().nonnegative().max(100_000_000).optional(),
  }),
  z.object({ type: z.literal('signal'), from: z.string(), fromDevice: deviceIdField.optional(), callId: clientId, data: signalData }),
  errorFrame,
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('envelope'), qid: z.number().int().positive(), from: z.string().min(1).max(64), fromDevice: deviceIdField.optional(), body: boundedBytesB64(QUEUE_MAX_ENVELOPE_BYTES, 'body'), sentAt: z.number().int() }),
  z.object({ type: z.literal('sent'), id: clientId }),
  z.object({ type: z.literal('presence'), user: z.string().min(1).max(64), online: z.boolean() }),
  z.object({ type: z.literal('transient'), from: z.string().min(1).max(64), fromDevice: deviceIdField.optional(), body: boundedBytesB64(TRANSIENT_MAX_BYTES, 'body') }),
  z.object({ type: z.literal('devices'), user: z.string().min(1).max(64) }),
  z.object({ type: z.literal('unlinked') }),
]);

/** WebSocket close codes the server uses (RFC 6455 §7.4.1, plus the 4000–4999 private range). */
export const CLOSE = {
  normal: 1000,
  policy: 1008,
  tooBig: 1009,
  serverError: 1011,
  authTimeout: 4001,
  authFailed: 4002,
  replaced: 4003,
  loggedOut: 4004,
  tokenExpired: 4005,
  passwordChanged: 4006,
  /** The browser was unlinked from its account (issue #17). */
  unlinked: 4007,
} as const;
