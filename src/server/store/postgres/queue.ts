// The offline queue over PostgreSQL. Every change to one recipient's queue first locks that
// recipient's usage row (FOR UPDATE), and that one lock gives three guarantees across processes:
//  - limits: the count and bytes read are the ones the insert adds to; no two senders both
//    take the last free slot;
//  - order: qids come from a sequence, which hands them out at insert but not in commit order.
//    Under the lock, one recipient's envelopes commit in qid order, so a reader that asks for
//    "qid > the last one I sent" (queue/delivery.ts) never skips one that commits late;
//  - no deadlock between enqueue and ack: both lock usage first, then queue rows, and the
//    usage triggers (migration 003) touch the row already held.
import type pg from 'pg';
import type { EnqueueResult, QueueStore } from '../types.ts';
import { toEnvelope, usageKey, type QueueRow } from '../rows.ts';
import { inTransaction, toBuffer } from './pool.ts';

async function lockUsage(c: pg.PoolClient, recipientId: string): Promise<{ count: number; bytes: number }> {
  await c.query('INSERT INTO queue_usage (recipient_id, count, bytes) VALUES ($1, 0, 0) ON CONFLICT (recipient_id) DO NOTHING', [recipientId]);
  const { rows } = await c.query<{ count: number; bytes: number }>('SELECT count, bytes FROM queue_usage WHERE recipient_id = $1 FOR UPDATE', [recipientId]);
  return rows[0]!;
}

/** qids arrive from clients; anything that is not a positive safe integer matches no envelope. */
const validQids = (qids: number[]) => qids.filter((q) => Number.isSafeInteger(q) && q > 0);

export function postgresQueue(pool: pg.Pool): QueueStore {
  return {
    enqueue: (e, limits) =>
      inTransaction(pool, async (c): Promise<EnqueueResult> => {
        const usage = await lockUsage(c, usageKey(e.recipientId, e.recipientDevice));
        if (usage.count >= limits.maxCount) return { status: 'full', reason: 'count' };
        if (usage.bytes + e.body.length > limits.maxBytes) return { status: 'full', reason: 'bytes' };
        const { rows } = await c.query<{ qid: number }>(
          `INSERT INTO queue (recipient_id, sender_id, sender_name, client_id, body, created_at, recipient_device, sender_device) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (recipient_id, sender_id, client_id) DO NOTHING RETURNING qid`,
          [e.recipientId, e.senderId, e.senderName, e.clientId, toBuffer(e.body), e.createdAt, e.recipientDevice, e.senderDevice],
        );
        return rows[0] ? { status: 'stored', qid: rows[0].qid } : { status: 'duplicate' };
      }),
    async pending(recipientId, afterQid, limit, notBefore, device = '1') {
      const { rows } = await pool.query<QueueRow>(
        'SELECT * FROM queue WHERE recipient_id = $1 AND recipient_device = $5 AND qid > $2 AND created_at >= $3 ORDER BY qid LIMIT $4',
        [recipientId, afterQid, notBefore, limit, device],
      );
      return rows.map(toEnvelope);
    },
    async ack(recipientId, qids, device = '1') {
      const wanted = validQids(qids);
      if (wanted.length === 0) return 0;
      return inTransaction(pool, async (c) => {
        await lockUsage(c, usageKey(recipientId, device));
        const { rowCount } = await c.query('DELETE FROM queue WHERE recipient_id = $1 AND recipient_device = $3 AND qid = ANY($2::bigint[])', [recipientId, wanted, device]);
        return rowCount ?? 0;
      });
    },
    dropDevice: (recipientId, device) =>
      inTransaction(pool, async (c) => {
        await lockUsage(c, usageKey(recipientId, device));
        const { rowCount } = await c.query('DELETE FROM queue WHERE recipient_id = $1 AND recipient_device = $2', [recipientId, device]);
        return rowCount ?? 0;
      }),
    purgeExpired: (before) =>
      inTransaction(pool, async (c) => {
        // The same lock order as enqueue and ack, taken in recipient order so two purging
        // processes cannot deadlock each other either.
        await c.query(
          `SELECT 1 FROM queue_usage WHERE recipient_id IN (
             SELECT DISTINCT recipient_id || CASE recipient_device WHEN '1' THEN '' ELSE ':' || recipient_device END FROM queue WHERE created_at < $1)
           ORDER BY recipient_id FOR UPDATE`,
          [before],
        );
        const { rowCount } = await c.query('DELETE FROM queue WHERE created_at < $1', [before]);
        return rowCount ?? 0;
      }),
    async depth() {
      const { rows } = await pool.query<{ envelopes: number; bytes: number }>(
        'SELECT COALESCE(SUM(count), 0)::bigint AS envelopes, COALESCE(SUM(bytes), 0)::bigint AS bytes FROM queue_usage',
      );
      return rows[0]!;
    },
    async waiting(recipientId, device = '1') {
      const { rows } = await pool.query<{ count: number }>('SELECT count::int AS count FROM queue_usage WHERE recipient_id = $1', [usageKey(recipientId, device)]);
      return rows[0]?.count ?? 0;
    },
  };
}
