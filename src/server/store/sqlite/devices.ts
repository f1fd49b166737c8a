// The browsers of each account, their signed device lists, and link requests, over SQLite.
import type Database from 'better-sqlite3';
import type { DeviceStore, LinkRequestStore } from '../types.ts';
import { buffer, toDevice, toLinkRequest, toList, type DeviceRow, type LinkRequestRow, type ListRow } from '../rows.ts';

export function sqliteDevices(db: Database.Database): DeviceStore {
  const q = {
    list: db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE user_id = ? ORDER BY created_at, device_id'),
    get: db.prepare<[string, string], DeviceRow>('SELECT * FROM devices WHERE user_id = ? AND device_id = ?'),
    add: db.prepare('INSERT INTO devices (user_id, device_id, name, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    rename: db.prepare('UPDATE devices SET name = ? WHERE user_id = ? AND device_id = ?'),
    unlink: db.prepare('UPDATE devices SET unlinked_at = ? WHERE user_id = ? AND device_id = ? AND unlinked_at IS NULL'),
    relinkFirst: db.prepare("UPDATE devices SET unlinked_at = NULL, name = ?, created_at = ?, last_seen_at = ? WHERE user_id = ? AND device_id = '1'"),
    touch: db.prepare('UPDATE devices SET last_seen_at = MAX(last_seen_at, ?) WHERE user_id = ? AND device_id = ?'),
    chain: db.prepare<[string], ListRow>('SELECT version, body, signature FROM device_lists WHERE user_id = ? ORDER BY version'),
    newest: db.prepare<[string], { v: number | null }>('SELECT MAX(version) AS v FROM device_lists WHERE user_id = ?'),
    append: db.prepare('INSERT INTO device_lists (user_id, version, body, signature, created_at) VALUES (?, ?, ?, ?, ?)'),
    clear: db.prepare('DELETE FROM device_lists WHERE user_id = ?'),
  };
  const append = db.transaction((userId: string, version: number, body: Uint8Array, signature: Uint8Array, now: number): 'ok' | 'conflict' => {
    if ((q.newest.get(userId)?.v ?? 0) + 1 !== version) return 'conflict';
    q.append.run(userId, version, buffer(body), buffer(signature), now);
    return 'ok';
  });
  return {
    async list(userId) {
      return q.list.all(userId).map(toDevice);
    },
    async get(userId, deviceId) {
      const r = q.get.get(userId, deviceId);
      return r && toDevice(r);
    },
    async add(userId, d) {
      return q.add.run(userId, d.deviceId, d.name, d.createdAt, d.lastSeenAt).changes === 1 ? 'ok' : 'exists';
    },
    async rename(userId, deviceId, name) {
      q.rename.run(name, userId, deviceId);
    },
    async unlink(userId, deviceId, at) {
      q.unlink.run(at, userId, deviceId);
    },
    async relinkFirst(userId, name, at) {
      q.relinkFirst.run(name, at, at, userId);
    },
    async touch(userId, deviceId, at) {
      q.touch.run(at, userId, deviceId);
    },
    async chain(userId) {
      return q.chain.all(userId).map(toList);
    },
    async appendList(userId, list, now) {
      return append(userId, list.version, list.body, list.signature, now);
    },
    async clearLists(userId) {
      q.clear.run(userId);
    },
  };
}

export function sqliteLinkRequests(db: Database.Database): LinkRequestStore {
  const q = {
    insert: db.prepare('INSERT INTO link_requests (id, user_id, request, created_at, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING'),
    get: db.prepare<[string], LinkRequestRow>('SELECT * FROM link_requests WHERE id = ?'),
    answer: db.prepare('UPDATE link_requests SET answer = ?, used_at = ? WHERE id = ? AND user_id = ? AND used_at IS NULL AND expires_at > ?'),
    countOpen: db.prepare<[string, number], { n: number }>('SELECT COUNT(*) AS n FROM link_requests WHERE user_id = ? AND used_at IS NULL AND expires_at > ?'),
    purge: db.prepare('DELETE FROM link_requests WHERE expires_at <= ?'),
  };
  return {
    async insert(r) {
      return q.insert.run(r.id, r.userId, buffer(r.request), r.createdAt, r.expiresAt).changes === 1 ? 'ok' : 'exists';
    },
    async get(id) {
      const r = q.get.get(id);
      return r && toLinkRequest(r);
    },
    async answer(id, userId, answer, now) {
      if (q.answer.run(buffer(answer), now, id, userId, now).changes === 1) return 'ok';
      const r = q.get.get(id);
      return r && r.user_id === userId && r.expires_at > now ? 'used' : 'missing';
    },
    async countOpen(userId, now) {
      return q.countOpen.get(userId, now)!.n;
    },
    async purgeExpired(now) {
      return q.purge.run(now).changes;
    },
  };
}
