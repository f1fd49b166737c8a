// The file worker in Chromium with the real origin-private file system (issue #19): what one
// worker seals, another opens and writes in place; the bytes on disk, the hashes and the root
// match the file; a resumed file keeps what was written; an altered or foreign chunk is
// reported and nothing of it is written; an aborted file is gone.
import { afterAll, describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex } from '../../src/crypto/bytes.ts';
import { importAesKey } from '../../src/crypto/aead.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { FILE_CHUNK_BYTES, chunkCount, chunkHash, rootHash } from '../../src/protocol/file-chunks.ts';
import { FileWorker, type FileSink } from '../../src/client/platform/file-worker-client.ts';
import { readFile, removeFile } from '../../src/client/platform/file-store.ts';

const sender = new FileWorker();
const receiver = new FileWorker();
afterAll(() => {
  sender.terminate();
  receiver.terminate();
});

/** Random bytes of any length (getRandomValues gives at most 64 KiB at a time). */
function randomFile(size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) out.set(webRandom(Math.min(65536, size - i)), i);
  return out;
}

interface Received {
  sink: FileSink;
  hashes: Map<number, string>;
  failures: Array<{ index: number; kind: string }>;
}

async function receiving(id: string, key: CryptoKey, fileId: Uint8Array, total: number): Promise<Received> {
  const r = { hashes: new Map<number, string>(), failures: [] as Array<{ index: number; kind: string }> };
  const sink = await receiver.receive(id, key, fileId, total, {
    written: (index, hash) => r.hashes.set(index, toHex(hash)),
    failed: (index, kind) => r.failures.push({ index, kind }),
  });
  return { ...r, sink };
}

async function sealAll(file: Blob, key: CryptoKey, fileId: Uint8Array, total: number, from = 0, window = 16) {
  const frames: Uint8Array[] = [];
  const hashes: string[] = [];
  for (let i = from; i < total; i += window) {
    const sealed = await sender.seal(file, key, fileId, total, i, Math.min(window, total - i));
    frames.push(...sealed.frames);
    hashes.push(...sealed.hashes.map(toHex));
  }
  return { frames, hashes };
}

describe('file worker (issue #19)', () => {
  it('seals a file a window at a time; the receiving worker writes it in place, byte for byte, with matching hashes', async () => {
    const bytes = randomFile(5 * FILE_CHUNK_BYTES + 1234); // a short last chunk
    const total = chunkCount(bytes.length);
    const key = await importAesKey(webRandom(32));
    const fileId = webRandom(16);
    const { frames, hashes } = await sealAll(new Blob([bytes]), key, fileId, total, 0, 4);
    expect(frames).toHaveLength(total);
    const expected = await Promise.all(Array.from({ length: total }, (_, i) => chunkHash(bytes.subarray(i * FILE_CHUNK_BYTES, (i + 1) * FILE_CHUNK_BYTES))));
    expect(hashes).toEqual(expected.map(toHex));

    const r = await receiving('worker-whole', key, fileId, total);
    frames.forEach((f, i) => r.sink.push(i, f));
    await r.sink.settled();
    await r.sink.close();
    expect(r.failures).toEqual([]);
    expect([...r.hashes.keys()].sort((a, b) => a - b)).toEqual([...Array(total).keys()]);
    expect([...r.hashes.values()].sort()).toEqual([...hashes].sort());
    const root = await rootHash(concatBytes(...expected));
    const got = await rootHash(concatBytes(...[...Array(total).keys()].map((i) => fromHex(r.hashes.get(i)!))));
    expect(toHex(got)).toBe(toHex(root));
    const stored = new Uint8Array(await (await readFile('worker-whole', 'f.bin', '')).arrayBuffer());
    expect(stored.length).toBe(bytes.length);
    expect(toHex(await chunkHash(stored))).toBe(toHex(await chunkHash(bytes)));
    await removeFile('worker-whole');
  });

  it('resumes into what is on disk: a second sink from chunk 3 keeps chunks 0–2', async () => {
    const bytes = randomFile(6 * FILE_CHUNK_BYTES);
    const key = await importAesKey(webRandom(32));
    const fileId = webRandom(16);
    const { frames } = await sealAll(new Blob([bytes]), key, fileId, 6);
    const first = await receiving('worker-resume', key, fileId, 6);
    frames.slice(0, 3).forEach((f, i) => first.sink.push(i, f));
    await first.sink.settled();
    await first.sink.close();
    const second = await receiving('worker-resume', key, fileId, 6);
    frames.slice(3).forEach((f, i) => second.sink.push(3 + i, f));
    await second.sink.settled();
    await second.sink.close();
    const stored = new Uint8Array(await (await readFile('worker-resume', 'f.bin', '')).arrayBuffer());
    expect(toHex(await chunkHash(stored))).toBe(toHex(await chunkHash(bytes)));
    await removeFile('worker-resume');
  });

  it('reports an altered chunk and a chunk of another file, writes neither, and the abort removes the file', async () => {
    const bytes = randomFile(3 * FILE_CHUNK_BYTES);
    const key = await importAesKey(webRandom(32));
    const fileId = webRandom(16);
    const { frames } = await sealAll(new Blob([bytes]), key, fileId, 3);
    const other = await sealAll(new Blob([bytes]), key, webRandom(16), 3);
    const altered = frames[1]!.slice();
    altered[altered.length - 1]! ^= 1;
    const r = await receiving('worker-bad', key, fileId, 3);
    r.sink.push(0, frames[0]!);
    r.sink.push(1, altered);
    r.sink.push(2, other.frames[2]!);
    await r.sink.settled();
    expect(r.failures.sort((a, b) => a.index - b.index)).toEqual([
      { index: 1, kind: 'decrypt' },
      { index: 2, kind: 'decrypt' },
    ]);
    expect([...r.hashes.keys()]).toEqual([0]);
    await r.sink.flush();
    expect((await readFile('worker-bad', 'f.bin', '')).size).toBe(FILE_CHUNK_BYTES);
    await r.sink.abort();
    await expect(readFile('worker-bad', 'f.bin', '')).rejects.toThrow();
  });

  it('names a failure inside the worker as the browser did: a file already open elsewhere cannot be opened again', async () => {
    const key = await importAesKey(webRandom(32));
    const r = await receiving('worker-twice', key, webRandom(16), 1);
    const other = new FileWorker();
    try {
      await expect(other.receive('worker-twice', key, webRandom(16), 1, { written: () => undefined, failed: () => undefined })).rejects.toMatchObject({ name: 'NoModificationAllowedError' });
    } finally {
      other.terminate();
      await r.sink.abort();
    }
  });
});
