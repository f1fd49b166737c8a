// The worker that seals and opens one call's media frames (src/protocol/media-frame.ts) inside
// the browser's media pipeline (W3C WebRTC Encoded Transform, RTCRtpScriptTransform). The page
// tells it each side's key once the ratchet has carried it: until then, frames to send are
// dropped and frames received wait here (a few seconds' worth), so nothing leaves unsealed and
// the first key frame is not lost. `null` for a side means the other browser cannot encrypt
// frames: they pass as DTLS-SRTP alone carries them.
import { webRandom } from '../../crypto/random.ts';
import { clearBytesFor, openFrame, sealFrame, type MediaKind } from '../../protocol/media-frame.ts';
import type { FrameCryptoCounters, ToFrameWorker } from './frame-crypto-messages.ts';

// The worker global's types (lib.webworker) cannot share a program with lib.dom; these are the
// parts used here, as the Encoded Transform specification defines them.
interface EncodedFrame {
  data: ArrayBuffer;
  type?: 'key' | 'delta' | 'empty';
}
interface ScriptTransformer {
  readonly readable: ReadableStream<EncodedFrame>;
  readonly writable: WritableStream<EncodedFrame>;
  readonly options: { side: 'send' | 'receive'; kind: MediaKind };
}
interface WorkerScope {
  onrtctransform: ((event: { transformer: ScriptTransformer }) => void) | null;
  onmessage: ((event: MessageEvent<ToFrameWorker>) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;

/** About four seconds of audio and video at once; older frames are dropped first. */
const MAX_WAITING = 400;

type KeyState = { state: 'pending' } | { state: 'plain' } | { state: 'key'; key: CryptoKey };

const keys: Record<'send' | 'receive', KeyState> = { send: { state: 'pending' }, receive: { state: 'pending' } };
const counters: FrameCryptoCounters = { sealed: 0, opened: 0, passed: 0, dropped: 0, failed: 0 };
const waiting: Array<{ frame: EncodedFrame; kind: MediaKind; controller: TransformStreamDefaultController<EncodedFrame> }> = [];

async function seal(frame: EncodedFrame, kind: MediaKind, controller: TransformStreamDefaultController<EncodedFrame>): Promise<void> {
  const k = keys.send;
  if (k.state === 'pending') {
    counters.dropped++;
    return;
  }
  if (k.state === 'key') {
    const clear = clearBytesFor(kind, frame.type === 'key');
    frame.data = (await sealFrame(k.key, new Uint8Array(frame.data), clear, webRandom)).buffer;
    counters.sealed++;
  } else counters.passed++;
  controller.enqueue(frame);
}

async function open(frame: EncodedFrame, controller: TransformStreamDefaultController<EncodedFrame>): Promise<void> {
  const k = keys.receive;
  if (k.state === 'plain') {
    counters.passed++;
    controller.enqueue(frame);
    return;
  }
  if (k.state !== 'key') return;
  try {
    frame.data = (await openFrame(k.key, new Uint8Array(frame.data))).buffer;
    counters.opened++;
    controller.enqueue(frame);
  } catch {
    // Not sealed with the key the ratchet carried: it never reaches the decoder.
    counters.failed++;
  }
}

async function flushWaiting(): Promise<void> {
  for (const w of waiting.splice(0)) await open(w.frame, w.controller);
}

scope.onrtctransform = (event) => {
  const { readable, writable, options } = event.transformer;
  const transform = new TransformStream<EncodedFrame, EncodedFrame>({
    async transform(frame, controller) {
      if (options.side === 'send') return seal(frame, options.kind, controller);
      if (keys.receive.state === 'pending') {
        waiting.push({ frame, kind: options.kind, controller });
        if (waiting.length > MAX_WAITING) {
          waiting.shift();
          counters.dropped++;
        }
        return;
      }
      return open(frame, controller);
    },
  });
  void readable.pipeThrough(transform).pipeTo(writable).catch(() => undefined);
};

scope.onmessage = (event) => {
  const m = event.data;
  if (m.type === 'key') {
    keys[m.side] = m.key ? { state: 'key', key: m.key } : { state: 'plain' };
    if (m.side === 'receive') void flushWaiting();
  } else if (m.type === 'counters') {
    scope.postMessage({ type: 'counters', id: m.id, counters: { ...counters } });
  }
};
