// The worker that seals and opens one call's media frames (src/protocol/media-frame.ts) inside
// the browser's media pipeline (W3C WebRTC Encoded Transform, RTCRtpScriptTransform). The page
// tells it each side's key once the ratchet has carried it: until then, frames to send are
// dropped and frames received wait here (a few seconds' worth), so nothing leaves unsealed and
// the first key frame is not lost. `null` for a side means the other browser cannot encrypt
// frames: they pass as DTLS-SRTP alone carries them.
import { webRandom } from '../../crypto/random.ts';
import { clearBytesFor, openFrame, sealFrame, type MediaKind } from '../../protocol/media-frame.ts';
import type { ToFrameWorker } from './frame-crypto-messages.ts';

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
}

const scope = globalThis as unknown as WorkerScope;

/** About four seconds of one stream's frames; older ones are dropped first. */
const MAX_WAITING = 200;

type KeyState = { state: 'pending' } | { state: 'plain' } | { state: 'key'; key: CryptoKey };

const keys: Record<'send' | 'receive', KeyState> = { send: { state: 'pending' }, receive: { state: 'pending' } };

/** The frame as it goes on, or undefined when it goes nowhere. */
async function seal(frame: EncodedFrame, kind: MediaKind): Promise<EncodedFrame | undefined> {
  const k = keys.send;
  if (k.state === 'pending') return undefined;
  if (k.state === 'key') {
    frame.data = (await sealFrame(k.key, new Uint8Array(frame.data), clearBytesFor(kind, frame.type === 'key'), webRandom)).buffer;
  }
  return frame;
}

async function open(frame: EncodedFrame): Promise<EncodedFrame | undefined> {
  const k = keys.receive;
  if (k.state === 'plain') return frame;
  if (k.state !== 'key') return undefined;
  try {
    frame.data = (await openFrame(k.key, new Uint8Array(frame.data))).buffer;
    return frame;
  } catch {
    // Not sealed with the key the ratchet carried: it never reaches the decoder.
    return undefined;
  }
}

/**
 * One sender's or receiver's frames, one at a time and in order, read and written directly
 * (a TransformStream between them cost measurably more per frame: bench:calls). Frames received
 * before the key are kept (a few seconds' worth) and opened first once it is known.
 */
async function run(transformer: ScriptTransformer): Promise<void> {
  const { side, kind } = transformer.options;
  const reader = transformer.readable.getReader();
  const writer = transformer.writable.getWriter();
  const waiting: EncodedFrame[] = [];
  for (;;) {
    const { value: frame, done } = await reader.read();
    if (done) return;
    let out: EncodedFrame | undefined;
    if (side === 'send') out = await seal(frame, kind);
    else if (keys.receive.state === 'pending') {
      waiting.push(frame);
      if (waiting.length > MAX_WAITING) waiting.shift();
      continue;
    } else {
      for (const early of waiting.splice(0)) {
        const opened = await open(early);
        if (opened) void writer.write(opened).catch(() => undefined);
      }
      out = await open(frame);
    }
    if (out) void writer.write(out).catch(() => undefined);
  }
}

scope.onrtctransform = (event) => {
  void run(event.transformer).catch(() => undefined);
};

scope.onmessage = (event) => {
  const m = event.data;
  keys[m.side] = m.key ? { state: 'key', key: m.key } : { state: 'plain' };
};
