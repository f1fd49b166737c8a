// The default store: one SQLite file in DATA_DIR (better-sqlite3, WAL). better-sqlite3 is
// synchronous; each statement here is a short indexed lookup, far cheaper than the promise
// around it, so the event loop is not held in any way that matters.
import Database from 'better-sqlite3';
import type { ConsumeResult, IdentityRecord, RefreshTokenRecord, Store, UserRecord } from '../types.ts';
import { migrate } from './migrate.ts';
import { sqliteMigrations } from './migrations/index.ts';

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  created_at: number;
}
interface IdentityRow {
  signing_key: Buffer;
  dh_key: Buffer;
  dh_key_signature: Buffer;
  updated_at: number;
}
interface RefreshRow {
  token_hash: string;
  user_id: string;
  family_id: string;
  expires_at: number;
  created_at: number;
  used_at: number | null;
}

const toUser = (r: UserRow): UserRecord => ({ id: r.id, username: r.username, passwordHash: r.password_hash, createdAt: r.created_at });
const toIdentity = (r: IdentityRow): IdentityRecord => ({
  signingKey: new Uint8Array(r.signing_key),
  dhKey: new Uint8Array(r.dh_key),
  dhKeySignature: new Uint8Array(r.dh_key_signature),
  updatedAt: r.updated_at,
});
const toRefresh = (r: RefreshRow): RefreshTokenRecord => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  familyId: r.family_id,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
});

export function openSqliteStore(file: string): Store {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // NORMAL with WAL is durable against process crashes (kill -9); only power loss can drop the
  // last transactions, and those are re-sent by clients that have not seen them acknowledged.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, sqliteMigrations);

  const q = {
    insertUser: db.prepare('INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(username) DO NOTHING'),
    userByName: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
    userById: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
    setHash: db.prepare('UPDATE users SET password_hash = ? WHERE id = ?'),
    getIdentity: db.prepare<[string], IdentityRow>('SELECT signing_key, dh_key, dh_key_signature, updated_at FROM identity_keys WHERE user_id = ?'),
    putIdentity: db.prepare(
      `INSERT INTO identity_keys (user_id, signing_key, dh_key, dh_key_signature, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(user_id) DO UPDATE SET signing_key = excluded.signing_key, dh_key = excluded.dh_key,
         dh_key_signature = excluded.dh_key_signature, updated_at = excluded.updated_at`,
    ),
    insertRefresh: db.prepare('INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)'),
    getRefresh: db.prepare<[string], RefreshRow>('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
    spendRefresh: db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL'),
    revokeFamily: db.prepare('DELETE FROM refresh_tokens WHERE family_id = ?'),
    revokeUser: db.prepare('DELETE FROM refresh_tokens WHERE user_id = ?'),
    purgeRefresh: db.prepare('DELETE FROM refresh_tokens WHERE expires_at <= ?'),
  };

  const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

  const createUser = db.transaction((user: UserRecord, identity: IdentityRecord): 'ok' | 'taken' => {
    const res = q.insertUser.run(user.id, user.username, user.passwordHash, user.createdAt);
    if (res.changes === 0) return 'taken';
    q.putIdentity.run(user.id, buf(identity.signingKey), buf(identity.dhKey), buf(identity.dhKeySignature), identity.updatedAt);
    return 'ok';
  });

  const consume = db.transaction((tokenHash: string, now: number): ConsumeResult => {
    const row = q.getRefresh.get(tokenHash);
    if (!row || row.expires_at <= now) return { status: 'unknown' };
    if (row.used_at !== null) return { status: 'reused', record: toRefresh(row) };
    q.spendRefresh.run(now, tokenHash);
    return { status: 'ok', record: toRefresh(row) };
  });

  return {
    users: {
      async create(user, identity) {
        return createUser(user, identity);
      },
      async findByUsername(username) {
        const r = q.userByName.get(username);
        return r && toUser(r);
      },
      async findById(id) {
        const r = q.userById.get(id);
        return r && toUser(r);
      },
      async setPasswordHash(id, hash) {
        q.setHash.run(hash, id);
      },
    },
    identities: {
      async get(userId) {
        const r = q.getIdentity.get(userId);
        return r && toIdentity(r);
      },
      async put(userId, identity) {
        q.putIdentity.run(userId, buf(identity.signingKey), buf(identity.dhKey), buf(identity.dhKeySignature), identity.updatedAt);
      },
    },
    refreshTokens: {
      async insert(r) {
        q.insertRefresh.run(r.tokenHash, r.userId, r.familyId, r.expiresAt, r.createdAt);
      },
      async consume(tokenHash, now) {
        return consume(tokenHash, now);
      },
      async revokeFamily(familyId) {
        q.revokeFamily.run(familyId);
      },
      async revokeUser(userId) {
        q.revokeUser.run(userId);
      },
      async purgeExpired(now) {
        return q.purgeRefresh.run(now).changes;
      },
    },
    async close() {
      db.close();
    },
  };
}
