// The default store: one SQLite file in DATA_DIR (better-sqlite3, WAL). better-sqlite3 is
// synchronous; each statement here is a short indexed lookup, far cheaper than the promise
// around it, so the event loop is not held in any way that matters.
import Database from 'better-sqlite3';
import type { ConsumeResult, IdentityRecord, OneTimePreKeyRecord, SignedPreKeysRecord, Store, UserRecord } from '../types.ts';
import { toIdentity, toRefresh, toSignedPreKeys, toUser, type IdentityRow, type RefreshRow, type SignedPreKeysRow, type UserRow } from '../rows.ts';
import { migrate } from './migrate.ts';
import { sqliteMigrations } from './migrations/index.ts';
import { sqliteQueue } from './queue.ts';
import { sqliteContacts } from './contacts.ts';
import { sqliteDevices, sqliteLinkRequests } from './devices.ts';

interface OneTimeRow {
  key_id: number;
  public_key: Buffer;
}

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
    changePassword: db.prepare('UPDATE users SET password_hash = ?, tokens_valid_after = ? WHERE id = ?'),
    insertFirstDevice: db.prepare("INSERT INTO devices (user_id, device_id, name, created_at, last_seen_at) VALUES (?, '1', '', ?, ?)"),
    getIdentity: db.prepare<[string, string], IdentityRow>('SELECT signing_key, dh_key, dh_key_signature, updated_at FROM identity_keys WHERE user_id = ? AND device_id = ?'),
    putIdentity: db.prepare(
      `INSERT INTO identity_keys (user_id, device_id, signing_key, dh_key, dh_key_signature, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(user_id, device_id) DO UPDATE SET signing_key = excluded.signing_key, dh_key = excluded.dh_key,
         dh_key_signature = excluded.dh_key_signature, updated_at = excluded.updated_at`,
    ),
    putSigned: db.prepare(
      `INSERT INTO signed_prekeys (user_id, device_id, spk_id, spk_public, spk_signature, pqk_id, pqk_public, pqk_signature, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(user_id, device_id) DO UPDATE SET spk_id = excluded.spk_id, spk_public = excluded.spk_public,
         spk_signature = excluded.spk_signature, pqk_id = excluded.pqk_id, pqk_public = excluded.pqk_public,
         pqk_signature = excluded.pqk_signature, updated_at = excluded.updated_at`,
    ),
    getSigned: db.prepare<[string, string], SignedPreKeysRow>('SELECT * FROM signed_prekeys WHERE user_id = ? AND device_id = ?'),
    deleteSigned: db.prepare('DELETE FROM signed_prekeys WHERE user_id = ? AND device_id = ?'),
    insertOneTime: db.prepare('INSERT OR IGNORE INTO one_time_prekeys (user_id, device_id, key_id, public_key) VALUES (?, ?, ?, ?)'),
    countOneTime: db.prepare<[string, string], { n: number }>('SELECT COUNT(*) AS n FROM one_time_prekeys WHERE user_id = ? AND device_id = ?'),
    takeOneTime: db.prepare<[string, string], OneTimeRow>(
      `DELETE FROM one_time_prekeys WHERE rowid = (SELECT rowid FROM one_time_prekeys WHERE user_id = ? AND device_id = ? ORDER BY key_id LIMIT 1)
       RETURNING key_id, public_key`,
    ),
    deleteOneTime: db.prepare('DELETE FROM one_time_prekeys WHERE user_id = ? AND device_id = ?'),
    deleteIdentity: db.prepare('DELETE FROM identity_keys WHERE user_id = ? AND device_id = ?'),
    insertRefresh: db.prepare('INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)'),
    getRefresh: db.prepare<[string], RefreshRow>('SELECT * FROM refresh_tokens WHERE token_hash = ?'),
    spendRefresh: db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL'),
    revokeFamily: db.prepare('DELETE FROM refresh_tokens WHERE family_id = ?'),
    revokeUser: db.prepare('DELETE FROM refresh_tokens WHERE user_id = ?'),
    purgeRefresh: db.prepare('DELETE FROM refresh_tokens WHERE expires_at <= ?'),
  };

  const buf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

  const createUser = db.transaction((user: Omit<UserRecord, 'tokensValidAfter'>, identity: IdentityRecord): 'ok' | 'taken' => {
    const res = q.insertUser.run(user.id, user.username, user.passwordHash, user.createdAt);
    if (res.changes === 0) return 'taken';
    q.insertFirstDevice.run(user.id, user.createdAt, user.createdAt);
    q.putIdentity.run(user.id, '1', buf(identity.signingKey), buf(identity.dhKey), buf(identity.dhKeySignature), identity.updatedAt);
    return 'ok';
  });

  const putIdentity = db.transaction((userId: string, identity: IdentityRecord, device: string) => {
    const old = q.getIdentity.get(userId, device);
    const changed = !old || !Buffer.from(identity.signingKey).equals(old.signing_key) || !Buffer.from(identity.dhKey).equals(old.dh_key);
    q.putIdentity.run(userId, device, buf(identity.signingKey), buf(identity.dhKey), buf(identity.dhKeySignature), identity.updatedAt);
    // Prekeys signed by the old identity key are useless to contacts and must not be handed out.
    if (changed && old) {
      q.deleteSigned.run(userId, device);
      q.deleteOneTime.run(userId, device);
    }
  });

  const addOneTime = db.transaction((userId: string, keys: OneTimePreKeyRecord[], cap: number, device: string): number => {
    let count = q.countOneTime.get(userId, device)!.n;
    for (const k of keys) {
      if (count >= cap) break;
      count += q.insertOneTime.run(userId, device, k.id, buf(k.publicKey)).changes;
    }
    return count;
  });

  const dropDeviceKeys = db.transaction((userId: string, device: string) => {
    q.deleteIdentity.run(userId, device);
    q.deleteSigned.run(userId, device);
    q.deleteOneTime.run(userId, device);
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
      async changePassword(id, hash, at) {
        q.changePassword.run(hash, at, id);
      },
    },
    identities: {
      async get(userId, device = '1') {
        const r = q.getIdentity.get(userId, device);
        return r && toIdentity(r);
      },
      async put(userId, identity, device = '1') {
        putIdentity(userId, identity, device);
      },
    },
    preKeys: {
      async putSigned(userId, r: SignedPreKeysRecord, device = '1') {
        q.putSigned.run(userId, device, r.signedPreKey.id, buf(r.signedPreKey.publicKey), buf(r.signedPreKey.signature), r.pqPreKey.id, buf(r.pqPreKey.publicKey), buf(r.pqPreKey.signature), r.updatedAt);
      },
      async getSigned(userId, device = '1') {
        const r = q.getSigned.get(userId, device);
        return r && toSignedPreKeys(r);
      },
      async addOneTime(userId, keys, cap, device = '1') {
        return addOneTime(userId, keys, cap, device);
      },
      async takeOneTime(userId, device = '1') {
        // One statement: SQLite runs it atomically, so concurrent takers never get the same key.
        const r = q.takeOneTime.get(userId, device);
        return r && { id: r.key_id, publicKey: new Uint8Array(r.public_key) };
      },
      async countOneTime(userId, device = '1') {
        return q.countOneTime.get(userId, device)!.n;
      },
      async dropDevice(userId, device) {
        dropDeviceKeys(userId, device);
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
    queue: sqliteQueue(db),
    contacts: sqliteContacts(db),
    devices: sqliteDevices(db),
    linkRequests: sqliteLinkRequests(db),
    async ping() {
      db.prepare('SELECT 1').get();
    },
    async close() {
      db.close();
    },
  };
}
