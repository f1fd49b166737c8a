// The browsers of each account, their signed device lists, and link requests, over PostgreSQL.
// A new list version is appended under the account's row lock (lockUser), so two browsers of one
// account that sign the next version at once cannot both be stored: one gets 'conflict'.
import type pg from 'pg';
import type { DeviceStore, LinkRequestStore } from '../types.ts';
import { toDevice, toLinkRequest, toList, type DeviceRow, type LinkRequestRow, type ListRow } from '../rows.ts';
import { inTransaction, toBuffer } from './pool.ts';
import { lockUser } from './accounts.ts';

export function postgresDevices(pool: pg.Pool): DeviceStore {
  return {
    async list(userId) {
      const { rows } = await pool.query<DeviceRow>('SELECT * FROM devices WHERE user_id = $1 ORDER BY created_at, device_id', [userId]);
      return rows.map(toDevice);
    },
    async get(userId, deviceId) {
      const { rows } = await pool.query<DeviceRow>('SELECT * FROM devices WHERE user_id = $1 AND device_id = $2', [userId, deviceId]);
      return rows[0] && toDevice(rows[0]);
    },
    async add(userId, d) {
      const { rowCount } = await pool.query(
        'INSERT INTO devices (user_id, device_id, name, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [userId, d.deviceId, d.name, d.createdAt, d.lastSeenAt],
      );
      return rowCount === 1 ? 'ok' : 'exists';
    },
    async rename(userId, deviceId, name) {
      await pool.query('UPDATE devices SET name = $1 WHERE user_id = $2 AND device_id = $3', [name, userId, deviceId]);
    },
    async unlink(userId, deviceId, at) {
      await pool.query('UPDATE devices SET unlinked_at = $1 WHERE user_id = $2 AND device_id = $3 AND unlinked_at IS NULL', [at, userId, deviceId]);
    },
    async relinkFirst(userId, name, at) {
      await pool.query("UPDATE devices SET unlinked_at = NULL, name = $1, created_at = $2, last_seen_at = $2 WHERE user_id = $3 AND device_id = '1'", [name, at, userId]);
    },
    async touch(userId, deviceId, at) {
      await pool.query('UPDATE devices SET last_seen_at = GREATEST(last_seen_at, $1) WHERE user_id = $2 AND device_id = $3', [at, userId, deviceId]);
    },
    async chain(userId) {
      const { rows } = await pool.query<ListRow>('SELECT version, body, signature FROM device_lists WHERE user_id = $1 ORDER BY version', [userId]);
      return rows.map(toList);
    },
    appendList: (userId, list, now) =>
      inTransaction(pool, async (c) => {
        await lockUser(c, userId);
        const { rows } = await c.query<{ v: string | null }>('SELECT MAX(version) AS v FROM device_lists WHERE user_id = $1', [userId]);
        if (Number(rows[0]?.v ?? 0) + 1 !== list.version) return 'conflict' as const;
        await c.query('INSERT INTO device_lists (user_id, version, body, signature, created_at) VALUES ($1, $2, $3, $4, $5)', [
          userId,
          list.version,
          toBuffer(list.body),
          toBuffer(list.signature),
          now,
        ]);
        return 'ok' as const;
      }),
    async clearLists(userId) {
      await pool.query('DELETE FROM device_lists WHERE user_id = $1', [userId]);
    },
  };
}

export function postgresLinkRequests(pool: pg.Pool): LinkRequestStore {
  return {
    async insert(r) {
      const { rowCount } = await pool.query('INSERT INTO link_requests (id, user_id, request, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
        r.id,
        r.userId,
        toBuffer(r.request),
        r.createdAt,
        r.expiresAt,
      ]);
      return rowCount === 1 ? 'ok' : 'exists';
    },
    async get(id) {
      const { rows } = await pool.query<LinkRequestRow>('SELECT * FROM link_requests WHERE id = $1', [id]);
      return rows[0] && toLinkRequest(rows[0]);
    },
    async answer(id, userId, answer, now) {
      const { rowCount } = await pool.query(
        'UPDATE link_requests SET answer = $1, used_at = $2 WHERE id = $3 AND user_id = $4 AND used_at IS NULL AND expires_at > $2',
        [toBuffer(answer), now, id, userId],
      );
      if (rowCount === 1) return 'ok';
      const { rows } = await pool.query<LinkRequestRow>('SELECT * FROM link_requests WHERE id = $1', [id]);
      const r = rows[0];
      return r && r.user_id === userId && Number(r.expires_at) > now ? 'used' : 'missing';
    },
    async countOpen(userId, now) {
      const { rows } = await pool.query<{ n: string }>('SELECT COUNT(*) AS n FROM link_requests WHERE user_id = $1 AND used_at IS NULL AND expires_at > $2', [userId, now]);
      return Number(rows[0]!.n);
    },
    async purgeExpired(now) {
      const { rowCount } = await pool.query('DELETE FROM link_requests WHERE expires_at <= $1', [now]);
      return rowCount ?? 0;
    },
  };
}
