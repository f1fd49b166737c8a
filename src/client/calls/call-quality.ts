// "Poor connection", from successive getStats() reports of a call (W3C webrtc-stats:
// RTCInboundRtpStreamStats packetsReceived/packetsLost/bytesReceived, and
// RTCRemoteInboundRtpStreamStats.fractionLost, the other side's RTCP report of what we send).
// A call is poor while, over the last interval, more than 5 % of the packets coming in were
// lost, the other side reports losing more than 10 % of ours, or the video coming in fell
// below 40 % of its recent best. It recovers after two good intervals in a row, so the line
// does not flicker. Takes any Map-like report, so tests can build one.
import type { StatsLike } from '../transport/selected-path.ts';

export interface QualitySample {
  at: number;
  /** Packets received and lost so far, audio and video together. */
  received: number;
  lost: number;
  videoBytes: number;
  /** The highest fraction lost the other side reports for what we send (0–1), if any. */
  remoteLoss: number | undefined;
}

const LOSS_LIMIT = 0.05;
const REMOTE_LOSS_LIMIT = 0.1;
const MIN_PACKETS = 20;
const BITRATE_FALL = 0.4;
/** Below this peak (bits/s) there is no video worth judging (a camera turned off, a still screen). */
const MIN_VIDEO_PEAK = 150_000;
const PEAK_WINDOW = 10;
const GOOD_TO_RECOVER = 2;

type Stat = Record<string, unknown>;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

export function sampleOf(report: StatsLike, at: number): QualitySample {
  const s: QualitySample = { at, received: 0, lost: 0, videoBytes: 0, remoteLoss: undefined };
  report.forEach((value) => {
    const stat = value as Stat;
    if (stat.type === 'inbound-rtp') {
      s.received += num(stat.packetsReceived);
      s.lost += Math.max(0, num(stat.packetsLost));
      if (stat.kind === 'video') s.videoBytes += num(stat.bytesReceived);
    } else if (stat.type === 'remote-inbound-rtp' && typeof stat.fractionLost === 'number') {
      s.remoteLoss = Math.max(s.remoteLoss ?? 0, stat.fractionLost);
    }
  });
  return s;
}

export class QualityMeter {
  private last: QualitySample | undefined;
  private readonly rates: number[] = [];
  private poorNow = false;
  private good = 0;

  get poor(): boolean {
    return this.poorNow;
  }

  /** Adds a sample; `videoExpected`: the other side says its camera or screen is on. Returns whether the call is poor now. */
  push(sample: QualitySample, videoExpected: boolean): boolean {
    const prev = this.last;
    this.last = sample;
    if (!prev || sample.at <= prev.at) return this.poorNow;
    const received = sample.received - prev.received;
    const lost = sample.lost - prev.lost;
    const lossBad = received + lost >= MIN_PACKETS && lost / (received + lost) > LOSS_LIMIT;
    const remoteBad = (sample.remoteLoss ?? 0) > REMOTE_LOSS_LIMIT;

    const rate = ((sample.videoBytes - prev.videoBytes) * 8 * 1000) / (sample.at - prev.at);
    let fallBad = false;
    if (videoExpected) {
      const peak = Math.max(0, ...this.rates);
      fallBad = peak >= MIN_VIDEO_PEAK && rate < peak * BITRATE_FALL;
      this.rates.push(rate);
      if (this.rates.length > PEAK_WINDOW) this.rates.shift();
    } else this.rates.length = 0;

    if (lossBad || remoteBad || fallBad) {
      this.poorNow = true;
      this.good = 0;
    } else if (this.poorNow && ++this.good >= GOOD_TO_RECOVER) {
      this.poorNow = false;
    }
    return this.poorNow;
  }
}
