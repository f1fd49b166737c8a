// What the server keeps, as interfaces. Server logic names only these; SQLite (and later
// PostgreSQL) adapters implement them. Every method is async so either adapter fits.
// Nothing here can hold a private key or message text: public keys, hashes and ids only.

export interface UserRecord {
  id: string;
  /** Normalised (wire/username.ts), so equality here is equality of accounts. */
  username: string;
  passwordHash: string;
  createdAt: number;
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
  create(user: UserRecord, identity: IdentityRecord): Promise<'ok' | 'taken'>;
  findByUsername(username: string): Promise<UserRecord | undefined>;
  findById(id: string): Promise<UserRecord | undefined>;
  setPasswordHash(id: string, passwordHash: string): Promise<void>;
}

export interface IdentityStore {
  get(userId: string): Promise<IdentityRecord | undefined>;
  put(userId: string, identity: IdentityRecord): Promise<void>;
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

export interface Store {
  readonly users: UserStore;
  readonly identities: IdentityStore;
  readonly refreshTokens: RefreshTokenStore;
  close(): Promise<void>;
}
