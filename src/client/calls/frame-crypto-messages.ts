// What the page and the frame worker (frame-crypto-worker.ts) say to each other.

export interface FrameCryptoCounters {
  /** Frames sealed before sending. */
  sealed: number;
  /** Frames received and opened with the other side's key. */
  opened: number;
  /** Frames passed unsealed (the other browser cannot encrypt frames). */
  passed: number;
  /** Frames to send before the keys were known, or received ones that waited too long. */
  dropped: number;
  /** Frames received that did not open with the other side's key: never decoded. */
  failed: number;
}

export type ToFrameWorker =
  /** `key: null`: frames on this side pass unsealed. */
  | { type: 'key'; side: 'send' | 'receive'; key: CryptoKey | null }
  | { type: 'counters'; id: number };

export type FromFrameWorker = { type: 'counters'; id: number; counters: FrameCryptoCounters };
