import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CATCH_UP_BATCH, CatchUp, PROGRESS_AFTER_MS, QUIET_AFTER_MS, type CatchUpProgress, type QueuedEnvelope } from '../../src/client/messaging/catch-up.ts';

const env = (qid: number, from = 'alice'): QueuedEnvelope => ({ qid, from, device: '1', body: new Uint8Array([qid & 0xff]) });

function harness(options: { handled?: (e: QueuedEnvelope) => boolean; costMs?: number; fail?: (batch: number) => boolean } = {}) {
  let clock = 0;
  const batches: number[][] = [];
  const acks: number[][] = [];
  const shown: Array<CatchUpProgress | null> = [];
  const c = new CatchUp({
    receive: async (batch) => {
      batches.push(batch.map((e) => e.qid));
      await new Promise((r) => setTimeout(r, options.costMs ?? 10));
      clock += options.costMs ?? 10;
      if (options.fail?.(batches.length)) throw new Error('disk full');
      return batch.map((e) => options.handled?.(e) ?? true);
    },
    ack: (qids) => acks.push(qids),
    progress: (p) => shown.push(p),
    now: () => clock,
  });
  return { c, batches, acks, shown, advance: (ms: number) => (clock += ms) };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('catch-up', () => {
  it('takes what arrived meanwhile in batches, and acknowledges each batch in one go', async () => {
    const h = harness();
    const n = 2 * CATCH_UP_BATCH + 101;
    h.c.begin(n);
    h.c.push(env(1));
    for (let q = 2; q <= n; q++) h.c.push(env(q));
    await vi.runAllTimersAsync();
    expect(h.batches.map((b) => b.length)).toEqual([1, CATCH_UP_BATCH, CATCH_UP_BATCH, 100]);
    expect(h.batches.flat()).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(h.acks).toEqual(h.batches);
  });

  it('acknowledges only what was handled for good, and nothing of a batch that could not be stored', async () => {
    const h = harness({ handled: (e) => e.qid % 3 !== 0, fail: (n) => n === 2 });
    h.c.begin(undefined);
    h.c.push(env(1));
    for (let q = 2; q <= 7; q++) h.c.push(env(q));
    await vi.runAllTimersAsync();
    h.c.push(env(8));
    h.c.push(env(9));
    await vi.runAllTimersAsync();
    expect(h.batches).toEqual([[1], [2, 3, 4, 5, 6, 7], [8], [9]]);
    expect(h.acks).toEqual([[1], [8]]); // batch 2 failed as a whole; 9 was not handled
  });

  it('shows progress only after a second, then as it goes, and hides it when done', async () => {
    const h = harness({ costMs: 300 });
    const n = 6 * CATCH_UP_BATCH + 1;
    h.c.begin(n);
    for (let q = 1; q <= n; q++) h.c.push(env(q));
    await vi.runAllTimersAsync();
    const shown = h.shown.filter((p): p is CatchUpProgress => p !== null);
    expect(shown.length).toBeGreaterThan(0);
    // First shown once a second had passed: after the batches done by then, never before.
    expect(shown[0]).toEqual({ done: 1 + 3 * CATCH_UP_BATCH, total: n });
    expect(shown.every((p) => p.total === n && p.done < n)).toBe(true);
    expect(shown.map((p) => p.done)).toEqual([...shown.map((p) => p.done)].sort((a, b) => a - b));
    expect(h.shown.at(-1)).toBeNull();
  });

  it('shows nothing for a catch-up shorter than a second', async () => {
    const h = harness({ costMs: 50 });
    h.c.begin(400);
    for (let q = 1; q <= 400; q++) h.c.push(env(q));
    await vi.runAllTimersAsync();
    expect(h.shown).toEqual([]);
    expect(PROGRESS_AFTER_MS).toBe(1000);
  });

  it('counts what arrives beyond the announced size, and ends when the queue goes quiet short of it', async () => {
    const h = harness({ costMs: 600 });
    h.c.begin(900); // the server counted 100 envelopes too old to deliver
    for (let q = 1; q <= 800; q++) h.c.push(env(q));
    await vi.runAllTimersAsync();
    expect(h.shown.filter(Boolean).length).toBeGreaterThan(0);
    expect(h.shown.at(-1)).toBeNull(); // hidden after QUIET_AFTER_MS without more
    expect(QUIET_AFTER_MS).toBeLessThan(5000);
    const h2 = harness({ costMs: 600 });
    h2.c.begin(500);
    for (let q = 1; q <= 700; q++) h2.c.push(env(q));
    await vi.runAllTimersAsync();
    const totals = h2.shown.filter((p): p is CatchUpProgress => p !== null).map((p) => p.total);
    expect(Math.max(...totals)).toBeGreaterThanOrEqual(700 - CATCH_UP_BATCH);
    expect(h2.shown.at(-1)).toBeNull();
  });
});
