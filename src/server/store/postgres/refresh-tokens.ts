// Refresh-token hashes over PostgreSQL. Consume is one conditional UPDATE: of two processes
// presenting the same token at once, exactly one sees it unspent; the other re-reads the row
// after the first commits and reports reuse, which revokes the family (auth/refresh-tokens.ts).
import type pg from 'pg';
import type { ConsumeResult, RefreshTokenStore } from '../types.ts';
import { toRefresh, type RefreshRow } from '../rows.ts';

export function postgresRefreshTokens(pool: pg.Pool): RefreshTokenStore {
  return {
    async insert(r) {
      await pool.query('INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)', [
        r.tokenHash,
        r.userId,
        r.familyId,
        r.expiresAt,
        r.createdAt,
      ]);
    },
    async consume(tokenHash, now): Promise<ConsumeResult> {
      const spent = await pool.query<RefreshRow>(
        'UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING *',
        [tokenHash, now],
      );
      if (spent.rows[0]) return { status: 'ok', record: toRefresh(spent.rows[0]) };
      const { rows } = await pool.query<RefreshRow>('SELECT * FROM refresh_tokens WHERE token_hash = $1', [tokenHash]);
      const row = rows[0];
      if (!row || row.expires_at <= now) return { status: 'unknown' };
      return row.used_at !== null ? { status: 'reused', record: toRefresh(row) } : { status: 'unknown' };
    },
    async revokeFamily(familyId) {
      await pool.query('DELETE FROM refresh_tokens WHERE family_id = $1', [familyId]);
    },
    async revokeUser(userId) {
      await pool.query('DELETE FROM refresh_tokens WHERE user_id = $1', [userId]);
    },
    async purgeExpired(now) {
      return (await pool.query('DELETE FROM refresh_tokens WHERE expires_at <= $1', [now])).rowCount ?? 0;
    },
  };
}
