// The offline queue in memory: nothing survives a restart. It exists as the baseline of the
// queue benchmark (what the SQLite queue costs) and as a reference for the QueueStore contract.
import type { EnqueueResult, QueueStore, QueuedEnvelope } from './types.ts';
import { usageKey } from './rows.ts';

export function memoryQueue(): QueueStore {
  const byRecipient = new Map<string, QueuedEnvelope[]>();
  const keys = new Set<string>();
  let nextQid = 1;
  const usage = (list: QueuedEnvelope[]) => list.reduce((n, e) => n + e.body.length, 0);
  const keyOf = (e: { recipientId: string; senderId: string; clientId: string }) => `${e.recipientId}\u0000${e.senderId}\u0000${e.clientId}`;
  return {
    async enqueue(e, limits): Promise<EnqueueResult> {
      const box = usageKey(e.recipientId, e.recipientDevice);
      const list = byRecipient.get(box) ?? [];
      if (list.length >= limits.maxCount) return { status: 'full', reason: 'count' };
      if (usage(list) + e.body.length > limits.maxBytes) return { status: 'full', reason: 'bytes' };
      if (keys.has(keyOf(e))) return { status: 'duplicate' };
      const stored = { ...e, qid: nextQid++ };
      list.push(stored);
      byRecipient.set(box, list);
      keys.add(keyOf(e));
      return { status: 'stored', qid: stored.qid };
    },
    async pending(recipientId, afterQid, limit, notBefore, device = '1') {
      return (byRecipient.get(usageKey(recipientId, device)) ?? []).filter((e) => e.qid > afterQid && e.createdAt >= notBefore).slice(0, limit);
    },
    async ack(recipientId, qids, device = '1') {
      const box = usageKey(recipientId, device);
      const list = byRecipient.get(box) ?? [];
      const drop = new Set(qids);
      const kept = list.filter((e) => !drop.has(e.qid));
      for (const e of list) if (drop.has(e.qid)) keys.delete(keyOf(e));
      byRecipient.set(box, kept);
      return list.length - kept.length;
    },
    async dropDevice(recipientId, device) {
      const box = usageKey(recipientId, device);
      const list = byRecipient.get(box) ?? [];
      for (const e of list) keys.delete(keyOf(e));
      byRecipient.delete(box);
      return list.length;
    },
    async purgeExpired(before) {
      let n = 0;
      for (const [r, list] of byRecipient) {
        const kept = list.filter((e) => e.createdAt >= before);
        for (const e of list) if (e.createdAt < before) keys.delete(keyOf(e));
        n += list.length - kept.length;
        byRecipient.set(r, kept);
      }
      return n;
    },
    async waiting(recipientId, device = '1') {
      return byRecipient.get(usageKey(recipientId, device))?.length ?? 0;
    },
    async depth() {
      let envelopes = 0;
      let bytes = 0;
      for (const list of byRecipient.values()) {
        envelopes += list.length;
        bytes += usage(list);
      }
      return { envelopes, bytes };
    },
  };
}
