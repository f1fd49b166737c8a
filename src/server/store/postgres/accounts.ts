// Users and their identity keys over PostgreSQL. A user's row doubles as their lock for key
// changes: identity updates and one-time prekey uploads take it FOR NO KEY UPDATE, so they
// serialise per user across every process, while prekey hand-outs (which only take the key
// rows) and foreign-key checks (KEY SHARE) go on undisturbed.
import type pg from 'pg';
import type { IdentityRecord, IdentityStore, UserStore } from '../types.ts';
import { toIdentity, toUser, type IdentityRow, type UserRow } from '../rows.ts';
import { inTransaction, toBuffer } from './pool.ts';


const UPSERT_IDENTITY = `
  INSERT INTO identity_keys (user_id, signing_key, dh_key, dh_key_signature, updated_at, device_id) VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (user_id, device_id) DO UPDATE SET signing_key = EXCLUDED.signing_key, dh_key = EXCLUDED.dh_key,
    dh_key_signature = EXCLUDED.dh_key_signature, updated_at = EXCLUDED.updated_at`;
const identityParams = (userId: string, i: IdentityRecord, device: string) => [userId, toBuffer(i.signingKey), toBuffer(i.dhKey), toBuffer(i.dhKeySignature), i.updatedAt, device];

/** Takes the per-user lock described above; false if there is no such user. */
export async function lockUser(client: pg.PoolClient, userId: string): Promise<boolean> {
  const { rowCount } = await client.query('SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE', [userId]);
  return (rowCount ?? 0) > 0;
}

export function postgresUsers(pool: pg.Pool): UserStore {
  return {
    create: (user, identity) =>
      inTransaction(pool, async (c) => {
        const inserted = await c.query(
          'INSERT INTO users (id, username, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (username) DO NOTHING',
          [user.id, user.username, user.passwordHash, user.createdAt],
        );
        if (inserted.rowCount === 0) return 'taken' as const;
        await c.query("INSERT INTO devices (user_id, device_id, name, created_at, last_seen_at) VALUES ($1, '1', '', $2, $2)", [user.id, user.createdAt]);
        await c.query(UPSERT_IDENTITY, identityParams(user.id, identity, '1'));
        return 'ok' as const;
      }),
    async findByUsername(username) {
      const { rows } = await pool.query<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
      return rows[0] && toUser(rows[0]);
    },
    async findById(id) {
      const { rows } = await pool.query<UserRow>('SELECT * FROM users WHERE id = $1', [id]);
      return rows[0] && toUser(rows[0]);
    },
    async setPasswordHash(id, hash) {
      await pool.query('UPDATE users SET password_hash = $1 WHERE id = $2', [hash, id]);
    },
    async changePassword(id, hash, at) {
      await pool.query('UPDATE users SET password_hash = $1, tokens_valid_after = $2 WHERE id = $3', [hash, at, id]);
    },
  };
}

export function postgresIdentities(pool: pg.Pool): IdentityStore {
  return {
    async get(userId, device = '1') {
      const { rows } = await pool.query<IdentityRow>('SELECT signing_key, dh_key, dh_key_signature, updated_at FROM identity_keys WHERE user_id = $1 AND device_id = $2', [userId, device]);
      return rows[0] && toIdentity(rows[0]);
    },
    put: (userId, identity, device = '1') =>
      inTransaction(pool, async (c) => {
        await lockUser(c, userId);
        const { rows } = await c.query<IdentityRow>('SELECT signing_key, dh_key, dh_key_signature, updated_at FROM identity_keys WHERE user_id = $1 AND device_id = $2', [userId, device]);
        const old = rows[0];
        const changed = !old || !toBuffer(identity.signingKey).equals(old.signing_key) || !toBuffer(identity.dhKey).equals(old.dh_key);
        await c.query(UPSERT_IDENTITY, identityParams(userId, identity, device));
        // Prekeys signed by the old identity key are useless to contacts and must not be handed out.
        if (changed && old) {
          await c.query('DELETE FROM signed_prekeys WHERE user_id = $1 AND device_id = $2', [userId, device]);
          await c.query('DELETE FROM one_time_prekeys WHERE user_id = $1 AND device_id = $2', [userId, device]);
        }
      }),
  };
}
