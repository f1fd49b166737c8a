// Delivers one connection's offline queue, oldest first, with at most `window` envelopes (and
// `windowBytes` of them) unacknowledged at a time: enough that a browser catching up always has
// the next batch arriving while it stores the last, little enough that a slow reader holds a
// bounded amount of the server's memory. Each connection starts from the beginning of what is still queued,
// so envelopes a previous connection received but never acknowledged are delivered again
// (at least once); the client de-duplicates by message id.
import { DELIVERY_WINDOW, DELIVERY_WINDOW_BYTES, encodeBase64url, type ServerFrame } from '../../wire/index.ts';
import type { QueueStore } from '../store/types.ts';

/** Where envelopes go: the recipient's connection. */
export interface FrameSink {
  sendFrame(frame: ServerFrame): void;
}

export class QueueDelivery {
  private lastSent = 0;
  /** Made on first use: most connections never have anything queued, and there are many. */
  private inflight: Map<number, number> | undefined;
  private inflightBytes = 0;
  private pumping = false;
  private again = false;
  private closed = false;

  constructor(
    private readonly queue: QueueStore,
    private readonly recipientId: string,
    private readonly to: FrameSink,
    private readonly maxAgeMs: number,
    /** Which of the recipient's browsers this connection is. */
    private readonly device = '1',
    private readonly window = DELIVERY_WINDOW,
    private readonly windowBytes = DELIVERY_WINDOW_BYTES,
  ) {}

  /** Sends whatever is queued and fits in the window; safe to call at any time, any number of times. */
  async pump(): Promise<void> {
    if (this.closed) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const room = this.window - (this.inflight?.size ?? 0);
        if (room <= 0) break;
        const batch = await this.queue.pending(this.recipientId, this.lastSent, room, Date.now() - this.maxAgeMs, this.device);
        let sent = 0;
        for (const e of batch) {
          if (this.closed) return;
          // Past the byte budget, the rest waits for acknowledgements (the first always goes).
          if (this.inflightBytes + e.body.length > this.windowBytes && this.inflightBytes > 0) break;
          (this.inflight ??= new Map()).set(e.qid, e.body.length);
          this.inflightBytes += e.body.length;
          this.lastSent = e.qid;
          this.to.sendFrame({ type: 'envelope', qid: e.qid, from: e.senderName, fromDevice: e.senderDevice, body: encodeBase64url(e.body), sentAt: e.createdAt });
          sent++;
        }
        if (sent === room) this.again = true;
      } while (this.again && !this.closed);
    } finally {
      this.pumping = false;
    }
  }

  async ack(qids: number[]): Promise<void> {
    await this.queue.ack(this.recipientId, qids, this.device);
    for (const q of qids) {
      const bytes = this.inflight?.get(q);
      if (bytes === undefined) continue;
      this.inflight!.delete(q);
      this.inflightBytes -= bytes;
    }
    await this.pump();
  }

  /** Nothing in flight and nothing being sent: dropping this object loses nothing. */
  get idle(): boolean {
    return !this.pumping && !this.again && (this.inflight?.size ?? 0) === 0;
  }

  close(): void {
    this.closed = true;
  }
}
