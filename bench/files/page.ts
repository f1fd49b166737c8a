// Runs inside Chromium (bench/files.ts drives it): two RTCPeerConnections in this page, joined
// directly, move the same bytes two ways, alternating rounds:
//  - bare: 64 KiB DataChannel messages, the ceiling;
//  - Parley's chunk path, as the app runs it: the sender's file worker reads the file a window
//    at a time, hashes and seals each chunk (AES-256-GCM); the receiver's file worker opens,
//    hashes and writes each chunk into the origin-private file system.
// Pacing is the app's: wait above 8 MiB buffered, resume below 2 MiB.
import { importAesKey } from '../../src/crypto/aead.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { FILE_CHUNK_BYTES } from '../../src/protocol/file-chunks.ts';
import { removeFile } from '../../src/client/platform/file-store.ts';
import { FileWorker } from '../../src/client/platform/file-worker-client.ts';

const params = new URLSearchParams(location.search);
const TOTAL = Number(params.get('mb') ?? 128) * 1024 * 1024;
const CHUNKS = TOTAL / FILE_CHUNK_BYTES;
const ROUNDS = Number(params.get('rounds') ?? 3);
const WINDOW = Number(params.get("window") ?? 16);

async function channelPair(): Promise<[RTCDataChannel, RTCDataChannel, () => void]> {
  const a = new RTCPeerConnection();
  const b = new RTCPeerConnection();
  a.onicecandidate = (e) => e.candidate && void b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && void a.addIceCandidate(e.candidate);
  const send = a.createDataChannel('bench', { ordered: true });
  send.binaryType = 'arraybuffer';
  send.bufferedAmountLowThreshold = 2 * 1024 * 1024;
  const received = new Promise<RTCDataChannel>((resolve) => (b.ondatachannel = (e) => resolve(e.channel)));
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  const recv = await received;
  recv.binaryType = 'arraybuffer';
  if (send.readyState !== 'open') await new Promise((r) => (send.onopen = r));
  return [send, recv, () => (a.close(), b.close())];
}

async function paced(ch: RTCDataChannel, data: Uint8Array<ArrayBuffer>): Promise<void> {
  if (ch.bufferedAmount > 8 * 1024 * 1024) await new Promise((r) => ch.addEventListener('bufferedamountlow', r, { once: true }));
  ch.send(data);
}

const source = new Blob(Array.from({ length: TOTAL / (1024 * 1024) }, () => webRandom(1024 * 1024)));
const sender = new FileWorker();
const receiver = new FileWorker();

async function run(mode: 'bare' | 'parley'): Promise<number> {
  const [send, recv, close] = await channelPair();
  const key = await importAesKey(webRandom(32));
  const fileId = webRandom(16);
  let written = 0;
  let failed: string | undefined;
  let allWritten!: () => void;
  const done = new Promise<void>((resolve) => (allWritten = resolve));
  const count = () => ++written === CHUNKS && allWritten();
  const sink =
    mode === 'parley'
      ? await receiver.receive('bench', key, fileId, CHUNKS, { written: count, failed: (_i, _k, f) => ((failed = f.name), allWritten()) })
      : undefined;
  let index = 0;
  recv.onmessage = (e) => {
    if (sink) sink.push(index++, new Uint8Array(e.data as ArrayBuffer));
    else count();
  };
  const t0 = performance.now();
  if (mode === 'bare') {
    const chunk = webRandom(FILE_CHUNK_BYTES);
    for (let i = 0; i < CHUNKS; i++) await paced(send, chunk);
  } else {
    const sealFrom = (from: number) => (from < CHUNKS ? sender.seal(source, key, fileId, CHUNKS, from, Math.min(WINDOW, CHUNKS - from)) : undefined);
    let ahead = sealFrom(0);
    for (let from = 0; from < CHUNKS; from += WINDOW) {
      const { frames } = await ahead!;
      ahead = sealFrom(from + WINDOW);
      for (const frame of frames) await paced(send, frame);
    }
  }
  await done;
  if (failed) throw new Error(`a chunk failed: ${failed}`);
  await sink?.close();
  const seconds = (performance.now() - t0) / 1000;
  close();
  if (sink) await removeFile('bench');
  return TOTAL / 1024 / 1024 / seconds;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

async function main() {
  const rows = { bare: [] as number[], parley: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    rows.bare.push(await run('bare'));
    rows.parley.push(await run('parley'));
  }
  (window as unknown as { __benchResult: unknown }).__benchResult = { megabytes: TOTAL / 1024 / 1024, rounds: ROUNDS, bare: median(rows.bare), parley: median(rows.parley) };
}

main().catch((e) => ((window as unknown as { __benchResult: unknown }).__benchResult = { error: String(e) }));
