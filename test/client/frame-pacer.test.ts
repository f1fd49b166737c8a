// The browser paces its signaling frames to the server's token bucket (src/client/transport/
// frame-pacer.ts): a burst of its own waits, in order, instead of being refused.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FramePacer } from '../../src/client/transport/frame-pacer.ts';

describe('frame pacer', () => {
  let now = 0;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
  });
  afterEach(() => vi.useRealTimers());
  const advance = (ms: number) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };

  it('sends a burst up to the server’s, then at its rate, in order, never faster than the server allows', () => {
    const sent: Array<{ at: number; text: string }> = [];
    const pacer = new FramePacer({ framesPerSecond: 20, frameBurst: 60 }, (text) => sent.push({ at: now, text }), () => now);
    for (let i = 0; i < 100; i++) pacer.send(`frame ${i}`);
    expect(sent).toHaveLength(56); // the burst, less a margin
    expect(pacer.queued).toBe(44);
    for (let t = 0; t < 5_000; t += 10) advance(10);
    expect(sent.map((s) => s.text)).toEqual(Array.from({ length: 100 }, (_, i) => `frame ${i}`));
    expect(pacer.queued).toBe(0);
    // Replayed against the server's own bucket (20 a second, bursts of 60): nothing refused.
    let tokens = 60;
    let last = 0;
    for (const s of sent) {
      tokens = Math.min(60, tokens + ((s.at - last) / 1000) * 20);
      last = s.at;
      expect(tokens).toBeGreaterThanOrEqual(1);
      tokens -= 1;
    }
    // The last of the 44 that waited went at about 18 a second.
    expect(sent.at(-1)!.at).toBeGreaterThan(2_000);
    expect(sent.at(-1)!.at).toBeLessThan(3_000);
  });

  it('takes the limits the server announces, counts frames sent around it, and drops what waits when the socket closes', () => {
    const sent: string[] = [];
    const pacer = new FramePacer({ framesPerSecond: 20, frameBurst: 60 }, (text) => sent.push(text), () => now);
    pacer.setLimits({ framesPerSecond: 2, frameBurst: 6 });
    pacer.spend(); // the auth frame
    for (let i = 0; i < 5; i++) pacer.send(String(i));
    expect(sent).toEqual(['0']); // 6 − 4 margin − 1 spent
    advance(600);
    expect(sent).toEqual(['0', '1']);
    pacer.clear();
    advance(10_000);
    expect(sent).toEqual(['0', '1']);
    pacer.send('after');
    expect(sent).toEqual(['0', '1', 'after']);
  });
});
