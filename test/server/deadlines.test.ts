// One timer for every socket's deadline (src/server/signaling/deadlines.ts): never early, at
// most a second late, a new deadline replaces the old, a cleared one never fires.
import { describe, expect, it } from 'vitest';
import { Deadlines, type Expiring } from '../../src/server/signaling/deadlines.ts';

function item(log: string[], name: string): Expiring {
  return { deadlineSecond: 0, expire: () => log.push(name) };
}

describe('deadlines', () => {
  it('expires an item once its deadline has passed, never before, within a second after', () => {
    let now = 100_000;
    const d = new Deadlines({ now: () => now, checkEveryMs: 0 });
    const fired: string[] = [];
    d.set(item(fired, 'a'), 101_300);
    for (now = 100_000; now < 101_300; now += 50) {
      d.sweep();
      expect(fired).toEqual([]);
    }
    for (; now <= 102_300 && fired.length === 0; now += 50) d.sweep();
    expect(fired).toEqual(['a']);
    expect(now - 50 - 101_300).toBeLessThanOrEqual(1000);
    for (let i = 0; i < 40; i++, now += 100) d.sweep();
    expect(fired).toEqual(['a']); // once
    expect(d.size).toBe(0);
  });

  it('replaces an earlier deadline, forgets a cleared one, and sends a past one at the next check', () => {
    let now = 50_000;
    const d = new Deadlines({ now: () => now, checkEveryMs: 0 });
    const fired: string[] = [];
    const renewed = item(fired, 'renewed');
    const cleared = item(fired, 'cleared');
    const late = item(fired, 'late');
    d.set(renewed, 51_000);
    d.set(renewed, 60_000);
    d.set(cleared, 51_000);
    d.clear(cleared);
    expect(d.size).toBe(1);
    now = 55_000;
    d.sweep();
    expect(fired).toEqual([]);
    d.set(late, 10_000); // already past
    now = 56_000;
    d.sweep();
    expect(fired).toEqual(['late']);
    now = 60_000;
    d.sweep();
    expect(fired).toEqual(['late', 'renewed']);
    expect(d.size).toBe(0);
  });

  it('checks by itself on its own timer', async () => {
    const d = new Deadlines({ checkEveryMs: 20 });
    const fired: string[] = [];
    try {
      d.set(item(fired, 'x'), Date.now() + 10);
      const start = Date.now();
      while (fired.length === 0 && Date.now() - start < 3000) await new Promise((r) => setTimeout(r, 20));
      expect(fired).toEqual(['x']);
    } finally {
      d.stop();
    }
  });
});
