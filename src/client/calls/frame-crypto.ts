// One call's media frame encryption, from the page's side: a worker of its own (so the keys of
// two calls never meet), the transforms on each sender and receiver, and the keys, derived from
// the secrets the ratchet carried (protocol/media-frame.ts). Where the browser has no encoded
// transforms it reports so, and the call runs on DTLS-SRTP with bound fingerprints alone.
import { decodeBase64url, encodeBase64url } from '../../wire/index.ts';
import { webRandom } from '../../crypto/random.ts';
import { deriveFrameKey, MEDIA_SECRET_BYTES } from '../../protocol/media-frame.ts';
import type { FrameCryptoCounters, FromFrameWorker, ToFrameWorker } from './frame-crypto-messages.ts';

export type { FrameCryptoCounters };

/** Whether this browser can put a script transform on RTP senders and receivers. */
export function frameCryptoSupported(): boolean {
  return typeof RTCRtpScriptTransform === 'function' && typeof Worker === 'function';
}

export class FrameCrypto {
  private readonly worker: Worker;
  /** The secret our own frame key comes from; it goes to the other side inside the ratchet. */
  readonly secret = encodeBase64url(webRandom(MEDIA_SECRET_BYTES));
  private nextRequest = 1;
  private readonly pending = new Map<number, (c: FrameCryptoCounters) => void>();

  constructor(private readonly callId: string) {
    this.worker = new Worker(new URL('./frame-crypto-worker.ts', import.meta.url), { type: 'module', name: 'parley-frame-crypto' });
    this.worker.onmessage = (e: MessageEvent<FromFrameWorker>) => {
      if (e.data.type === 'counters') {
        this.pending.get(e.data.id)?.(e.data.counters);
        this.pending.delete(e.data.id);
      }
    };
  }

  attach(transceiver: RTCRtpTransceiver, kind: 'audio' | 'video'): void {
    transceiver.sender.transform = new RTCRtpScriptTransform(this.worker, { side: 'send', kind });
    transceiver.receiver.transform = new RTCRtpScriptTransform(this.worker, { side: 'receive', kind });
  }

  /** Our frames are sealed from now on (the other side has its key), or sent plain (`false`). */
  async sealOutgoing(seal: boolean): Promise<void> {
    this.post({ type: 'key', side: 'send', key: seal ? await deriveFrameKey(decodeBase64url(this.secret)!, this.callId) : null });
  }

  /** The other side's secret (frames open with its key), or null: its frames come plain. */
  async openIncoming(secret: string | null): Promise<void> {
    const raw = secret === null ? undefined : decodeBase64url(secret);
    this.post({ type: 'key', side: 'receive', key: raw ? await deriveFrameKey(raw, this.callId) : null });
  }

  counters(): Promise<FrameCryptoCounters> {
    const id = this.nextRequest++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.post({ type: 'counters', id });
    });
  }

  close(): void {
    this.worker.terminate();
    for (const resolve of this.pending.values()) resolve({ sealed: 0, opened: 0, passed: 0, dropped: 0, failed: 0 });
    this.pending.clear();
  }

  private post(message: ToFrameWorker): void {
    this.worker.postMessage(message);
  }
}
