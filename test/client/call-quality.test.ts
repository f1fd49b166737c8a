// Issue #16: "Poor connection" from getStats() reports: loss coming in, loss the other side
// reports of ours, or incoming video falling well below its recent best; and not flickering.
import { describe, expect, it } from 'vitest';
import { QualityMeter, sampleOf, type QualitySample } from '../../src/client/calls/call-quality.ts';

/** A Map-like report as getStats() returns it. */
function report(stats: Array<Record<string, unknown>>) {
  const m = new Map(stats.map((s, i) => [String(s.id ?? i), s]));
  return { get: (id: string) => m.get(id), forEach: (fn: (v: unknown) => void) => m.forEach((v) => fn(v)) };
}

function feed(meter: QualityMeter, samples: Array<Omit<QualitySample, 'at'>>, video = false): boolean[] {
  return samples.map((s, i) => meter.push({ ...s, at: i * 2000 }, video));
}

describe('call quality (issue #16)', () => {
  it('reads packets, loss and video bytes from inbound-rtp, and the worst loss the other side reports', () => {
    const s = sampleOf(
      report([
        { type: 'inbound-rtp', kind: 'audio', packetsReceived: 100, packetsLost: 3, bytesReceived: 9000 },
        { type: 'inbound-rtp', kind: 'video', packetsReceived: 400, packetsLost: 1, bytesReceived: 500_000 },
        { type: 'remote-inbound-rtp', kind: 'audio', fractionLost: 0.02 },
        { type: 'remote-inbound-rtp', kind: 'video', fractionLost: 0.12 },
        { type: 'outbound-rtp', kind: 'audio', packetsSent: 999 },
        { type: 'candidate-pair', packetsReceived: 12345 },
      ]),
      7,
    );
    expect(s).toEqual({ at: 7, received: 500, lost: 4, videoBytes: 500_000, remoteLoss: 0.12 });
  });

  it('is good on a clean call', () => {
    const m = new QualityMeter();
    expect(feed(m, [0, 1, 2, 3].map((i) => ({ received: i * 100, lost: 0, videoBytes: 0, remoteLoss: 0 })))).toEqual([false, false, false, false]);
  });

  it('is poor when more than 5 % of incoming packets are lost, and recovers after two good intervals', () => {
    const m = new QualityMeter();
    const samples = [
      { received: 0, lost: 0 },
      { received: 100, lost: 0 },
      { received: 190, lost: 10 }, // 10 of 100 lost
      { received: 290, lost: 10 },
      { received: 390, lost: 10 },
      { received: 490, lost: 10 },
    ].map((s) => ({ ...s, videoBytes: 0, remoteLoss: undefined }));
    expect(feed(m, samples)).toEqual([false, false, true, true, false, false]);
  });

  it('does not judge loss on a handful of packets', () => {
    const m = new QualityMeter();
    expect(feed(m, [{ received: 0, lost: 0 }, { received: 5, lost: 3 }].map((s) => ({ ...s, videoBytes: 0, remoteLoss: undefined })))).toEqual([false, false]);
  });

  it('is poor when the other side reports losing more than 10 % of what we send', () => {
    const m = new QualityMeter();
    expect(feed(m, [0, 1, 2].map((i) => ({ received: i * 100, lost: 0, videoBytes: 0, remoteLoss: i === 2 ? 0.2 : 0.01 })))).toEqual([false, false, true]);
  });

  it('is poor when incoming video falls below 40 % of its recent best, only while video is expected', () => {
    const kbps = [600, 600, 600, 150];
    let bytes = 0;
    const samples = [{ received: 0, lost: 0, videoBytes: 0, remoteLoss: undefined }];
    for (const k of kbps) {
      bytes += (k * 1000 * 2) / 8;
      samples.push({ received: samples.length * 100, lost: 0, videoBytes: bytes, remoteLoss: undefined });
    }
    expect(feed(new QualityMeter(), samples, true).at(-1)).toBe(true);
    // The camera was turned off: a fall in video is not a poor connection.
    expect(feed(new QualityMeter(), samples, false).at(-1)).toBe(false);
  });
});
