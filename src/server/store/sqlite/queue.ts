// The offline queue over SQLite. Enqueue checks the limits and inserts in one transaction;
// better-sqlite3 is synchronous, so no other statement runs in between.
import type Database from 'better-sqlite3';
import type { EnqueueResult, QueueStore, QueuedEnvelope } from '../types.ts';
import { toEnvelope, usageKey, type QueueRow } from '../rows.ts';

export function sqliteQueue(db: Database.Database): QueueStore {
  const q = {
    usage: db.prepare<[string], { count: number; bytes: number }>('SELECT count, bytes FROM queue_usage WHERE recipient_id = ?'),
    insert: db.prepare(
      'INSERT OR IGNORE INTO queue (recipient_id, recipient_device, sender_id, sender_device, sender_name, client_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    pending: db.prepare<[string, string, number, number, number], QueueRow>(
      'SELECT * FROM queue WHERE recipient_id = ? AND recipient_device = ? AND qid > ? AND created_at >= ? ORDER BY qid LIMIT ?',
    ),
    ack: db.prepare('DELETE FROM queue WHERE recipient_id = ? AND recipient_device = ? AND qid = ?'),
    drop: db.prepare('DELETE FROM queue WHERE recipient_id = ? AND recipient_device = ?'),
    purge: db.prepare('DELETE FROM queue WHERE created_at < ?'),
    depth: db.prepare<[], { envelopes: number; bytes: number }>('SELECT COALESCE(SUM(count), 0) AS envelopes, COALESCE(SUM(bytes), 0) AS bytes FROM queue_usage'),
  };

  const enqueue = db.transaction((e: Omit<QueuedEnvelope, 'qid'>, maxCount: number, maxBytes: number): EnqueueResult => {
    const usage = q.usage.get(usageKey(e.recipientId, e.recipientDevice)) ?? { count: 0, bytes: 0 };
    if (usage.count >= maxCount) return { status: 'full', reason: 'count' };
    if (usage.bytes + e.body.length > maxBytes) return { status: 'full', reason: 'bytes' };
    const res = q.insert.run(e.recipientId, e.recipientDevice, e.senderId, e.senderDevice, e.senderName, e.clientId, Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength), e.createdAt);
    return res.changes === 0 ? { status: 'duplicate' } : { status: 'stored', qid: Number(res.lastInsertRowid) };
  });

  const ack = db.transaction((recipientId: string, qids: number[], device: string) => {
    let n = 0;
    for (const qid of qids) n += q.ack.run(recipientId, device, qid).changes;
    return n;
  });

  return {
    async enqueue(e, limits) {
      return enqueue(e, limits.maxCount, limits.maxBytes);
    },
    async pending(recipientId, afterQid, limit, notBefore, device = '1') {
      // The order of bound parameters matches the statement: recipient, device, qid, created_at, limit.
      return q.pending.all(recipientId, device, afterQid, notBefore, limit).map(toEnvelope);
    },
    async ack(recipientId, qids, device = '1') {
      return ack(recipientId, qids, device);
    },
    async dropDevice(recipientId, device) {
      return q.drop.run(recipientId, device).changes;
    },
    async purgeExpired(before) {
      return q.purge.run(before).changes;
    },
    async depth() {
      return q.depth.get()!;
    },
    async waiting(recipientId, device = '1') {
      return q.usage.get(usageKey(recipientId, device))?.count ?? 0;
    },
  };
}
