// The key directory's prekeys over PostgreSQL. The promise that matters most: a one-time prekey
// is handed out once, however many processes fetch bundles at the same moment. takeOneTime
// deletes the row it picks in the same statement, and SKIP LOCKED lets concurrent takers pass
// over a row another transaction is already deleting instead of queueing behind it and then
// finding it gone.
import type pg from 'pg';
import type { OneTimePreKeyRecord, PreKeyStore } from '../types.ts';
import { inTransaction, toBuffer, toBytes } from './pool.ts';
import { lockUser } from './accounts.ts';
import { toSignedPreKeys, type SignedPreKeysRow } from '../rows.ts';

/** The first occurrence of each id, in order: what SQLite's INSERT OR IGNORE keeps. */
function firstOfEachId(keys: OneTimePreKeyRecord[]): OneTimePreKeyRecord[] {
  const seen = new Set<number>();
  return keys.filter((k) => !seen.has(k.id) && Boolean(seen.add(k.id)));
}

export function postgresPreKeys(pool: pg.Pool): PreKeyStore {
  const count = async (q: pg.Pool | pg.PoolClient, userId: string, device: string) =>
    (await q.query<{ n: number }>('SELECT COUNT(*) AS n FROM one_time_prekeys WHERE user_id = $1 AND device_id = $2', [userId, device])).rows[0]!.n;

  return {
    async putSigned(userId, r, device = '1') {
      await pool.query(
        `INSERT INTO signed_prekeys (user_id, spk_id, spk_public, spk_signature, pqk_id, pqk_public, pqk_signature, updated_at, device_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (user_id, device_id) DO UPDATE SET spk_id = EXCLUDED.spk_id, spk_public = EXCLUDED.spk_public,
           spk_signature = EXCLUDED.spk_signature, pqk_id = EXCLUDED.pqk_id, pqk_public = EXCLUDED.pqk_public,
           pqk_signature = EXCLUDED.pqk_signature, updated_at = EXCLUDED.updated_at`,
        [userId, r.signedPreKey.id, toBuffer(r.signedPreKey.publicKey), toBuffer(r.signedPreKey.signature), r.pqPreKey.id, toBuffer(r.pqPreKey.publicKey), toBuffer(r.pqPreKey.signature), r.updatedAt, device],
      );
    },
    async getSigned(userId, device = '1') {
      const { rows } = await pool.query<SignedPreKeysRow>('SELECT * FROM signed_prekeys WHERE user_id = $1 AND device_id = $2', [userId, device]);
      return rows[0] && toSignedPreKeys(rows[0]);
    },
    addOneTime: (userId, keys, cap, device = '1') =>
      inTransaction(pool, async (c) => {
        // Two uploads for one user at once must not both see room for the same slots.
        await lockUser(c, userId);
        const before = await count(c, userId, device);
        const fresh = firstOfEachId(keys);
        if (before >= cap || fresh.length === 0) return before;
        // Keys whose ids the user already has are skipped, and the rest fill the room in order.
        const inserted = await c.query(
          `INSERT INTO one_time_prekeys (user_id, device_id, key_id, public_key)
           SELECT $1, $5, k.id, k.public_key FROM unnest($2::bigint[], $3::bytea[]) WITH ORDINALITY AS k(id, public_key, ord)
           WHERE NOT EXISTS (SELECT 1 FROM one_time_prekeys o WHERE o.user_id = $1 AND o.device_id = $5 AND o.key_id = k.id)
           ORDER BY k.ord LIMIT $4
           ON CONFLICT DO NOTHING`,
          [userId, fresh.map((k) => k.id), fresh.map((k) => toBuffer(k.publicKey)), cap - before, device],
        );
        return before + (inserted.rowCount ?? 0);
      }),
    async takeOneTime(userId, device = '1') {
      const { rows } = await pool.query<{ key_id: number; public_key: Buffer }>(
        `DELETE FROM one_time_prekeys WHERE (user_id, device_id, key_id) = (
           SELECT user_id, device_id, key_id FROM one_time_prekeys WHERE user_id = $1 AND device_id = $2 ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED
         ) RETURNING key_id, public_key`,
        [userId, device],
      );
      const r = rows[0];
      return r && { id: r.key_id, publicKey: toBytes(r.public_key) };
    },
    countOneTime: (userId, device = '1') => count(pool, userId, device),
    dropDevice: (userId, device) =>
      inTransaction(pool, async (c) => {
        await lockUser(c, userId);
        for (const table of ['identity_keys', 'signed_prekeys', 'one_time_prekeys']) {
          await c.query(`DELETE FROM ${table} WHERE user_id = $1 AND device_id = $2`, [userId, device]);
        }
      }),
  };
}
