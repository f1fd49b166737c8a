// Runs inside Chromium (bench/files.ts drives it): two RTCPeerConnections in this page, joined
// directly, send the same 128 MiB three ways, alternating rounds:
//  - bare: 64 KiB DataChannel messages, the ceiling;
//  - encrypted: Parley's chunk sealing (AES-256-GCM, per-chunk SHA-256 on both sides), no disk;
//  - encrypted + disk: the same, with the receiver writing to the origin-private file system
//    through Parley's batching writer, as the app does.
// Pacing is the app's: wait above 8 MiB buffered, resume below 2 MiB.
import { importAesKey } from '../../src/crypto/aead.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { FILE_CHUNK_BYTES, chunkHash, openChunk, sealChunk } from '../../src/protocol/file-chunks.ts';
import { openWriter, removeFile } from '../../src/client/platform/file-store.ts';

const params = new URLSearchParams(location.search);
const TOTAL = Number(params.get('mb') ?? 128) * 1024 * 1024;
const CHUNKS = TOTAL / FILE_CHUNK_BYTES;
const ROUNDS = Number(params.get('rounds') ?? 3);

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

async function run(mode: 'bare' | 'encrypted' | 'disk'): Promise<number> {
  const [send, recv, close] = await channelPair();
  const source = webRandom(FILE_CHUNK_BYTES);
  const key = await importAesKey(webRandom(32));
  const fileId = webRandom(16);
  const writer = mode === 'disk' ? await openWriter('bench') : undefined;
  let got = 0;
  let chain = Promise.resolve();
  const done = new Promise<void>((resolve) => {
    recv.onmessage = (e) => {
      const frame = new Uint8Array(e.data as ArrayBuffer);
      chain = chain.then(async () => {
        if (mode !== 'bare') {
          const { index, plaintext } = await openChunk(key, fileId, CHUNKS, frame);
          await chunkHash(plaintext);
          if (writer) await writer.write(index * FILE_CHUNK_BYTES, plaintext);
        }
        if (++got === CHUNKS) resolve();
      });
    };
  });
  const t0 = performance.now();
  for (let i = 0; i < CHUNKS; i++) {
    if (mode === 'bare') await paced(send, source);
    else {
      await chunkHash(source);
      await paced(send, await sealChunk(key, fileId, i, CHUNKS, source, webRandom));
    }
  }
  await done;
  await chain;
  if (writer) await writer.close();
  const seconds = (performance.now() - t0) / 1000;
  close();
  if (mode === 'disk') await removeFile('bench');
  return TOTAL / 1024 / 1024 / seconds;
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

async function main() {
  const rows = { bare: [] as number[], encrypted: [] as number[], disk: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    rows.bare.push(await run('bare'));
    rows.encrypted.push(await run('encrypted'));
    rows.disk.push(await run('disk'));
  }
  (window as unknown as { __benchResult: unknown }).__benchResult = {
    megabytes: TOTAL / 1024 / 1024,
    rounds: ROUNDS,
    bare: median(rows.bare),
    encrypted: median(rows.encrypted),
    disk: median(rows.disk),
  };
}

main().catch((e) => ((window as unknown as { __benchResult: unknown }).__benchResult = { error: String(e) }));
