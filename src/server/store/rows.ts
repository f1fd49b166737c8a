// The tables' row shapes and their mapping to records, shared by both adapters: SQLite and
// PostgreSQL have the same columns (their migrations mirror each other), and both drivers hand
// binary columns over as Buffers and, as configured, integers as numbers.
import type { DeviceRecord, IdentityRecord, LinkRequestRecord, QueuedEnvelope, RefreshTokenRecord, SignedListRecord, SignedPreKeysRecord, UserRecord } from './types.ts';

export interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: number;
  tokens_valid_after: number;
}

export interface IdentityRow {
  signing_key: Buffer;
  dh_key: Buffer;
  dh_key_signature: Buffer;
  updated_at: number;
}

export interface SignedPreKeysRow {
  spk_id: number;
  spk_public: Buffer;
  spk_signature: Buffer;
  pqk_id: number;
  pqk_public: Buffer;
  pqk_signature: Buffer;
  updated_at: number;
}

export interface RefreshRow {
  token_hash: string;
  user_id: string;
  family_id: string;
  expires_at: number;
  created_at: number;
  used_at: number | null;
}

export interface QueueRow {
  qid: number;
  recipient_id: string;
  recipient_device: string;
  sender_id: string;
  sender_device: string;
  sender_name: string;
  client_id: string;
  body: Buffer;
  created_at: number;
}

export const bytes = (b: Buffer): Uint8Array => new Uint8Array(b);
export const buffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export const toUser = (r: UserRow): UserRecord => ({
  id: r.id,
  username: r.username,
  passwordHash: r.password_hash,
  createdAt: Number(r.created_at),
  tokensValidAfter: Number(r.tokens_valid_after),
});

export const toIdentity = (r: IdentityRow): IdentityRecord => ({
  signingKey: bytes(r.signing_key),
  dhKey: bytes(r.dh_key),
  dhKeySignature: bytes(r.dh_key_signature),
  updatedAt: Number(r.updated_at),
});

export const toSignedPreKeys = (r: SignedPreKeysRow): SignedPreKeysRecord => ({
  signedPreKey: { id: r.spk_id, publicKey: bytes(r.spk_public), signature: bytes(r.spk_signature) },
  pqPreKey: { id: r.pqk_id, publicKey: bytes(r.pqk_public), signature: bytes(r.pqk_signature) },
  updatedAt: Number(r.updated_at),
});

export const toRefresh = (r: RefreshRow): RefreshTokenRecord => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  familyId: r.family_id,
  expiresAt: Number(r.expires_at),
  createdAt: Number(r.created_at),
});

export const toEnvelope = (r: QueueRow): QueuedEnvelope => ({
  qid: Number(r.qid),
  recipientId: r.recipient_id,
  recipientDevice: r.recipient_device,
  senderId: r.sender_id,
  senderDevice: r.sender_device,
  senderName: r.sender_name,
  clientId: r.client_id,
  body: bytes(r.body),
  createdAt: Number(r.created_at),
});

/** The queue_usage key of a device's queue (migration 006): the user id alone for device "1". */
export const usageKey = (recipientId: string, device: string): string => (device === '1' ? recipientId : `${recipientId}:${device}`);

export interface DeviceRow {
  device_id: string;
  name: string;
  created_at: number;
  last_seen_at: number;
  unlinked_at: number | null;
}

export const toDevice = (r: DeviceRow): DeviceRecord => ({
  deviceId: r.device_id,
  name: r.name,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  unlinkedAt: r.unlinked_at === null ? null : Number(r.unlinked_at),
});

export interface ListRow {
  version: number;
  body: Buffer;
  signature: Buffer;
}

export const toList = (r: ListRow): SignedListRecord => ({ version: Number(r.version), body: bytes(r.body), signature: bytes(r.signature) });

export interface LinkRequestRow {
  id: string;
  user_id: string;
  request: Buffer;
  answer: Buffer | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export const toLinkRequest = (r: LinkRequestRow): LinkRequestRecord => ({
  id: r.id,
  userId: r.user_id,
  request: bytes(r.request),
  answer: r.answer ? bytes(r.answer) : null,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  usedAt: r.used_at === null ? null : Number(r.used_at),
});
