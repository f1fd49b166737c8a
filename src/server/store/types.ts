// What the server keeps, as interfaces. Server logic names only these; the SQLite (default) and
// PostgreSQL (scale-out) adapters implement them. Every method is async so either adapter fits.
// Nothing here can hold a private key or message text: public keys, hashes and ids only.

export interface UserRecord {
  id: string;
  /** Normalised (wire/username.ts), so equality here is equality of accounts. */
  username: string;
  passwordHash: string;
  createdAt: number;
  /** Access tokens issued before this (unix seconds) are refused: set by a password change. */
  tokensValidAfter: number;
}

export interface IdentityRecord {
  signingKey: Uint8Array;
  dhKey: Uint8Array;
  dhKeySignature: Uint8Array;
  updatedAt: number;
}

export interface RefreshTokenRecord {
  /** SHA-256 of the token: a stolen table cannot be replayed as cookies. */
  tokenHash: string;
  userId: string;
  /** All tokens rotated from one login share a family; reuse of a spent one revokes the family. */
  familyId: string;
  expiresAt: number;
  createdAt: number;
}

export type ConsumeResult =
  | { status: 'ok'; record: RefreshTokenRecord }
  | { status: 'reused'; record: RefreshTokenRecord }
  | { status: 'unknown' };

export interface UserStore {
  /** Creates the user and their identity in one transaction; 'taken' if the username exists. */
  create(user: Omit<UserRecord, 'tokensValidAfter'>, identity: IdentityRecord): Promise<'ok' | 'taken'>;
  findByUsername(username: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
  /** New password hash, and every access token issued before `at` (unix seconds) stops working. */
  changePassword(id: string, passwordHash: string, at: number): Promise<void>;
}

// Keys and queues belong to one browser of an account, a device (issue #17). Device "1" is what
// a v1 account had, so every method's device defaults to it and v1 callers go on unchanged.

export interface IdentityStore {
  get(userId: string, device?: string): Promise<IdentityRecord | undefined>;
  /** Stores the device's identity; a different identity than before (new keys) drops its prekeys. */
  put(userId: string, identity: IdentityRecord, device?: string): Promise<void>;
}

export interface SignedPreKeysRecord {
  signedPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
  pqPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array };
  updatedAt: number;
}

export interface OneTimePreKeyRecord {
  id: number;
  publicKey: Uint8Array;
}

export interface PreKeyStore {
  /** Replaces the current signed and PQ prekeys. */
  putSigned(userId: string, record: SignedPreKeysRecord, device?: string): Promise<void>;
  getSigned(userId: string, device?: string): Promise<SignedPreKeysRecord | undefined>;
  /**
   * Adds one-time prekeys, ignoring ids already present, keeping at most `cap` in all.
   * Returns how many the user has afterwards.
   */
  addOneTime(userId: string, keys: OneTimePreKeyRecord[], cap: number, device?: string): Promise<number>;
  /** Removes and returns one one-time prekey, atomically: no key is ever handed out twice. */
  takeOneTime(userId: string, device?: string): Promise<OneTimePreKeyRecord | undefined>;
  countOneTime(userId: string, device?: string): Promise<number>;
  /** Forgets every key of a device (it was unlinked). */
  dropDevice(userId: string, device: string): Promise<void>;
}

export interface RefreshTokenStore {
  insert(record: RefreshTokenRecord): Promise<void>;
  /**
   * Marks the token spent and returns it. A token that was already spent comes back as
   * 'reused' (a sign it was stolen), and an expired or unknown one as 'unknown'.
   */
  consume(tokenHash: string, now: number): Promise<ConsumeResult>;
  revokeFamily(familyId: string): Promise<void>;
  revokeUser(userId: string): Promise<void>;
  purgeExpired(now: number): Promise<number>;
}

export interface QueuedEnvelope {
  /** The server's delivery id: increasing, so "oldest first" is "smallest qid first". */
  qid: number;
  recipientId: string;
  /** The recipient's browser this envelope was sealed for. */
  recipientDevice: string;
  senderId: string;
  /** Which of the sender's browsers sealed it: the recipient opens it with that browser's session. */
  senderDevice: string;
  senderName: string;
  /** The sender's id for the envelope: a retry with the same id is not stored twice. */
  clientId: string;
  body: Uint8Array;
  createdAt: number;
}

export interface QueueLimits {
  maxCount: number;
  maxBytes: number;
  maxAgeMs: number;
}

export type EnqueueResult = { status: 'stored'; qid: number } | { status: 'duplicate' } | { status: 'full'; reason: 'count' | 'bytes' };

export interface QueueStore {
  /** The limits are the recipient device's own. */
  enqueue(envelope: Omit<QueuedEnvelope, 'qid'>, limits: QueueLimits): Promise<EnqueueResult>;
  /** Oldest first: envelopes with qid > `afterQid`, created after `notBefore`, at most `limit`. */
  pending(recipientId: string, afterQid: number, limit: number, notBefore: number, device?: string): Promise<QueuedEnvelope[]>;
  /** Deletes the recipient device's own envelopes with these qids; returns how many were deleted. */
  ack(recipientId: string, qids: number[], device?: string): Promise<number>;
  /** Drops everything queued for a device (it was unlinked); returns how many. */
  dropDevice(recipientId: string, device: string): Promise<number>;
  /** Deletes envelopes created before `before`; returns how many. */
  purgeExpired(before: number): Promise<number>;
  depth(): Promise<{ envelopes: number; bytes: number }>;
  /** How many envelopes wait for one device (expired ones not yet purged included): a catch-up's size. */
  waiting(recipientId: string, device?: string): Promise<number>;
}

export type ContactState = 'added' | 'blocked';

export interface ContactRecord {
  contactId: string;
  username: string;
  state: ContactState;
  /** Whether the contact added us too (presence is shared only then). */
  mutual: boolean;
}

export interface ContactStore {
  list(ownerId: string): Promise<ContactRecord[]>;
  set(ownerId: string, contactId: string, state: ContactState, now: number): Promise<void>;
  remove(ownerId: string, contactId: string): Promise<void>;
  /** Whether `ownerId` has blocked `otherId`. */
  blocks(ownerId: string, otherId: string): Promise<boolean>;
  /** Everyone `ownerId` has blocked (most people: nobody). */
  blockedBy(ownerId: string): Promise<string[]>;
  /** Users who added `userId` and whom `userId` added (neither blocking). */
  mutual(userId: string): Promise<string[]>;
}

export interface DeviceRecord {
  deviceId: string;
  /** Chosen by the account's owner ("Chromium on Linux"); empty for a v1 browser not yet named. */
  name: string;
  createdAt: number;
  lastSeenAt: number;
  /** Set once the device is unlinked: it is told to wipe its keys when it next connects. */
  unlinkedAt: number | null;
}

export interface SignedListRecord {
  version: number;
  body: Uint8Array;
  signature: Uint8Array;
}

export interface DeviceStore {
  /** Every device of the account ever linked, unlinked ones included, oldest first. */
  list(userId: string): Promise<DeviceRecord[]>;
  get(userId: string, deviceId: string): Promise<DeviceRecord | undefined>;
  /** 'exists' if the id is taken (linked now or before: ids are never reused). */
  add(userId: string, device: Omit<DeviceRecord, 'unlinkedAt'>): Promise<'ok' | 'exists'>;
  rename(userId: string, deviceId: string, name: string): Promise<void>;
  unlink(userId: string, deviceId: string, at: number): Promise<void>;
  /**
   * Makes browser 1 linked again, new (the account reset its identity: the browser that did it
   * becomes browser 1 of a new list, and nothing of the old keys is trusted by anyone).
   */
  relinkFirst(userId: string, name: string, at: number): Promise<void>;
  touch(userId: string, deviceId: string, at: number): Promise<void>;
  /** Every version of the account's signed device list, oldest first. */
  chain(userId: string): Promise<SignedListRecord[]>;
  /** Appends the next version; 'conflict' unless it is exactly one more than the newest. */
  appendList(userId: string, list: SignedListRecord, now: number): Promise<'ok' | 'conflict'>;
  /** Forgets every list (the account reset its identity). */
  clearLists(userId: string): Promise<void>;
}

export interface LinkRequestRecord {
  id: string;
  userId: string;
  request: Uint8Array;
  answer: Uint8Array | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface LinkRequestStore {
  /** 'exists' if the id is taken. */
  insert(record: Omit<LinkRequestRecord, 'answer' | 'usedAt'>): Promise<'ok' | 'exists'>;
  get(id: string): Promise<LinkRequestRecord | undefined>;
  /** Sets the answer once: 'used' if it already has one, 'missing' if gone or expired. */
  answer(id: string, userId: string, answer: Uint8Array, now: number): Promise<'ok' | 'used' | 'missing'>;
  /** Open (unexpired, unanswered) requests of an account. */
  countOpen(userId: string, now: number): Promise<number>;
  purgeExpired(now: number): Promise<number>;
}

export interface Store {
  readonly users: UserStore;
  readonly identities: IdentityStore;
  readonly preKeys: PreKeyStore;
  readonly refreshTokens: RefreshTokenStore;
  readonly queue: QueueStore;
  readonly contacts: ContactStore;
  readonly devices: DeviceStore;
  readonly linkRequests: LinkRequestStore;
  /** Resolves when the database answers a trivial query; the readiness check (/healthz/ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
