// The sounds of a call that is not answered yet, made with Web Audio so no file is fetched:
// the callee's ring (two bursts of 440 + 480 Hz, then a pause) and the caller's ringback
// (the North American ringback cadence, 2 s on and 4 s off, ITU-T E.180 Supplement 2).
// A browser that will not play sound before the page was touched simply stays silent; the
// dialog and the notification still ring.

export type ToneKind = 'ring' | 'ringback';

interface Burst {
  at: number;
  length: number;
}

const PATTERNS: Record<ToneKind, { period: number; bursts: Burst[]; gain: number }> = {
  ring: {
    period: 3,
    bursts: [
      { at: 0, length: 0.4 },
      { at: 0.6, length: 0.4 },
    ],
    gain: 0.18,
  },
  ringback: { period: 6, bursts: [{ at: 0, length: 2 }], gain: 0.06 },
};

export class RingTone {
  private context: AudioContext | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;

  start(kind: ToneKind): void {
    this.stop();
    if (typeof AudioContext !== 'function') return;
    try {
      const context = new AudioContext();
      this.context = context;
      const pattern = PATTERNS[kind];
      const schedule = () => {
        const t0 = context.currentTime + 0.05;
        for (const b of pattern.bursts) {
          const gain = context.createGain();
          gain.gain.setValueAtTime(0, t0 + b.at);
          gain.gain.linearRampToValueAtTime(pattern.gain, t0 + b.at + 0.02);
          gain.gain.setValueAtTime(pattern.gain, t0 + b.at + b.length - 0.02);
          gain.gain.linearRampToValueAtTime(0, t0 + b.at + b.length);
          gain.connect(context.destination);
          for (const hz of [440, 480]) {
            const osc = context.createOscillator();
            osc.frequency.value = hz;
            osc.connect(gain);
            osc.start(t0 + b.at);
            osc.stop(t0 + b.at + b.length);
          }
        }
      };
      void context.resume().catch(() => undefined);
      schedule();
      this.timer = setInterval(schedule, pattern.period * 1000);
    } catch {
      this.stop();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    void this.context?.close().catch(() => undefined);
    this.context = undefined;
  }
}
