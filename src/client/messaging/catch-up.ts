// Envelopes from the server's queue, taken in batches: whatever has arrived while the last batch
// was being stored goes in the next, so a browser coming back to thousands of messages decrypts
// and stores them a few hundred at a time, in one transaction each, and acknowledges each batch
// in one frame; a single live message is a batch of one and waits for nothing. Tracks a
// catch-up's progress against the size the server announced, for "Catching up: 4,210 of 10,000".
export interface QueuedEnvelope {
  qid: number;
  from: string;
  device: string;
  body: Uint8Array;
}

export interface CatchUpProgress {
  done: number;
  total: number;
}

export interface CatchUpDeps {
  /** Stores a batch: per envelope, true once handled for good (to acknowledge). */
  receive(batch: QueuedEnvelope[]): Promise<boolean[]>;
  ack(qids: number[]): void;
  /** The progress to show, or null for none (nothing to catch up, finished, or under a second so far). */
  progress(p: CatchUpProgress | null): void;
  now(): number;
}

/** Envelopes per batch: enough to spread a transaction's cost, few enough to keep each step short. */
export const CATCH_UP_BATCH = 500;
/** A catch-up shows its progress only once it has taken this long. */
export const PROGRESS_AFTER_MS = 1000;
/** And updates it at most this often. */
const PROGRESS_EVERY_MS = 100;
/**
 * Nothing more arrived for this long: the catch-up is over, whatever the announced size said
 * (it counts envelopes too old to be delivered, which the server drops instead).
 */
export const QUIET_AFTER_MS = 2000;

export class CatchUp {
  private readonly waiting: QueuedEnvelope[] = [];
  private draining = false;
  private total = 0;
  private done = 0;
  private startedAt = 0;
  private shownAt = -Infinity;
  private shown = false;
  private quiet: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deps: CatchUpDeps) {}

  /** The socket is ready and `queued` envelopes wait on the server (undefined: a server that does not say). */
  begin(queued: number | undefined): void {
    this.total = queued ?? 0;
    this.done = 0;
    this.startedAt = this.deps.now();
    this.hide();
  }

  push(envelope: QueuedEnvelope): void {
    clearTimeout(this.quiet);
    this.waiting.push(envelope);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.waiting.length) {
        const batch = this.waiting.splice(0, CATCH_UP_BATCH);
        let handled: boolean[];
        try {
          handled = await this.deps.receive(batch);
        } catch {
          handled = batch.map(() => false); // not stored: the server delivers them again
        }
        const qids = batch.filter((_, i) => handled[i]).map((e) => e.qid);
        if (qids.length) this.deps.ack(qids);
        this.done += batch.length;
        this.report();
      }
    } finally {
      this.draining = false;
    }
    clearTimeout(this.quiet);
    if (this.shown) this.quiet = setTimeout(() => this.finish(), QUIET_AFTER_MS);
  }

  private finish(): void {
    this.total = this.done;
    this.hide();
  }

  private report(): void {
    // More may have arrived than were announced (sent meanwhile): the total grows with them.
    const total = Math.max(this.total, this.done + this.waiting.length);
    if (this.done >= total) return this.finish();
    const now = this.deps.now();
    if (now - this.startedAt < PROGRESS_AFTER_MS || now - this.shownAt < PROGRESS_EVERY_MS) return;
    this.shownAt = now;
    this.shown = true;
    this.deps.progress({ done: this.done, total });
  }

  private hide(): void {
    if (!this.shown) return;
    this.shown = false;
    this.deps.progress(null);
  }
}
