// One call's media frame encryption, from the page's side: a worker of its own (so the keys of
// two calls never meet), the transforms on each sender and receiver, and the keys, derived from
// the secrets the ratchet carried (protocol/media-frame.ts). Where the browser has no encoded
// transforms it reports so, and the call runs on DTLS-SRTP with bound fingerprints alone.
import { decodeBase64url, encodeBase64url } from '../../wire/index.ts';
import { webRandom } from '../../crypto/random.ts';
import { deriveFrameKey, MEDIA_SECRET_BYTES } from '../../protocol/media-frame.ts';
import type { ToFrameWorker } from './frame-crypto-messages.ts';

/** Whether this browser can put a script transform on RTP senders and receivers. */
export function frameCryptoSupported(): boolean {
  return typeof RTCRtpScriptTransform === 'function' && typeof Worker === 'function';
}

export class FrameCrypto {
  private readonly worker: Worker;
  /** The secret our own frame key comes from; it goes to the other side inside the ratchet. */
  readonly secret = encodeBase64url(webRandom(MEDIA_SECRET_BYTES));

  constructor(private readonly callId: string) {
    this.worker = new Worker(new URL('./frame-crypto-worker.ts', import.meta.url), { type: 'module', name: 'parley-frame-crypto' });
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

  close(): void {
    this.worker.terminate();
  }

  private post(message: ToFrameWorker): void {
    this.worker.postMessage(message);
  }
}
