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

  it('sends urgent frames (acks, a call\'s signals) ahead of everything waiting in the other lane', () => {
    const sent: string[] = [];
    const pacer = new FramePacer({ framesPerSecond: 20, frameBurst: 10 }, (text) => sent.push(text), () => now);
    for (let i = 0; i < 30; i++) pacer.send(`bulk ${i}`);
    pacer.sendUrgent('ack 1');
    pacer.sendUrgent('ack 2');
    expect(sent).toHaveLength(6);
    advance(60); // one token
    expect(sent.at(-1)).toBe('ack 1');
    for (let t = 0; t < 3_000; t += 10) advance(10);
    expect(sent.slice(6, 8)).toEqual(['ack 1', 'ack 2']);
    expect(sent.filter((t) => t.startsWith('bulk'))).toEqual(Array.from({ length: 30 }, (_, i) => `bulk ${i}`));
  });

  it('merges sends that wait side by side into send-many frames, in order, within the server\'s limits', () => {
    const sent: string[] = [];
    const pacer = new FramePacer({ framesPerSecond: 20, frameBurst: 10 }, (text) => sent.push(text), () => now);
    pacer.setLimits({ framesPerSecond: 20, frameBurst: 10, sendMany: 4 }, 10_000);
    const item = (i: number) => ({ to: `peer${i % 3}`, id: `id-${String(i).padStart(16, '0')}`, body: 'x'.repeat(1000) });
    for (let i = 0; i < 6; i++) pacer.send(`other ${i}`); // the burst (10 less the margin)
    for (let i = 0; i < 30; i++) pacer.send(JSON.stringify({ type: 'send', ...item(i) }), item(i));
    pacer.send('a typing notice'); // not a send: it breaks a run and keeps its place
    for (let i = 30; i < 33; i++) pacer.send(JSON.stringify({ type: 'send', ...item(i) }), item(i));
    for (let t = 0; t < 3_000; t += 10) advance(10);
    const frames = sent.slice(6).map((t) => (t.startsWith('{') ? (JSON.parse(t) as { type: string; items?: Array<{ id: string }>; id?: string }) : t));
    const ids = frames.flatMap((f) => (typeof f === 'string' ? [f] : f.type === 'send-many' ? f.items!.map((x) => x.id) : [f.id!]));
    expect(ids).toEqual([...Array.from({ length: 30 }, (_, i) => item(i).id), 'a typing notice', ...Array.from({ length: 3 }, (_, i) => item(30 + i).id)]);
    const many = frames.filter((f): f is { type: string; items: Array<{ id: string }> } => typeof f !== 'string' && f.type === 'send-many');
    expect(many.length).toBeGreaterThan(0);
    expect(Math.max(...many.map((f) => f.items.length))).toBeLessThanOrEqual(4);
    expect(frames.length).toBeLessThan(34 - 10); // fewer frames than sends
    // Byte limit: items of 1,100 bytes, at most 9 fit 10,000 (here 4 by count first).
    pacer.setLimits({ framesPerSecond: 20, frameBurst: 10, sendMany: 100 }, 2_500);
    sent.length = 0;
    for (let i = 0; i < 20; i++) pacer.send('filler');
    for (let i = 0; i < 6; i++) pacer.send(JSON.stringify({ type: 'send', ...item(i) }), item(i));
    for (let t = 0; t < 5_000; t += 10) advance(10);
    const merged = sent.filter((t) => t.includes('send-many')).map((t) => (JSON.parse(t) as { items: unknown[] }).items.length);
    expect(merged.every((n) => n <= 2)).toBe(true);
  });
});
