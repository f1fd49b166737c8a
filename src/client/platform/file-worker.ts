// The worker that does a file transfer's heavy lifting away from the page: on the sending
// side it reads the file a window of chunks at a time and hashes and seals them; on the
// receiving side it opens, hashes and writes each chunk straight into the origin-private file
// system through a synchronous access handle, which writes in place. (The page's only other
// way, a writable stream, keeps a copy of the whole file beside it and copies it again at each
// commit, which made large files slow down as they grew.) Web Crypto runs the ciphers off this
// thread as well, so a window's chunks are sealed, or several received chunks opened, at once.
import { ownBuffer } from '../../crypto/bytes.ts';
import { webRandom } from '../../crypto/random.ts';
import { FILE_CHUNK_BYTES, chunkHash, openChunk, sealChunk } from '../../protocol/file-chunks.ts';
import { filesDirectory } from './file-store.ts';
import type { FromFileWorker, ToFileWorker, WorkerFailure } from './file-worker-messages.ts';

// lib.webworker cannot share a program with lib.dom: the parts of the worker scope and of the
// File System Access specification used here.
interface SyncAccessHandle {
  write(data: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToFileWorker>) => void) | null;
  postMessage(message: FromFileWorker, transfer?: Transferable[]): void;
}
const scope = globalThis as unknown as WorkerScope;

interface Receiving {
  key: CryptoKey;
  fileId: Uint8Array;
  total: number;
  handle: SyncAccessHandle | undefined;
}

const receiving = new Map<string, Receiving>();

function failureOf(e: unknown): WorkerFailure {
  return e instanceof DOMException ? { name: e.name, message: e.message } : { name: 'Error', message: e instanceof Error ? e.message : String(e) };
}

async function seal(m: Extract<ToFileWorker, { op: 'seal' }>): Promise<void> {
  const read = new Uint8Array(await m.file.slice(m.from * FILE_CHUNK_BYTES, (m.from + m.count) * FILE_CHUNK_BYTES).arrayBuffer());
  const chunks = Array.from({ length: m.count }, (_, i) => read.subarray(i * FILE_CHUNK_BYTES, (i + 1) * FILE_CHUNK_BYTES));
  const [hashes, frames] = await Promise.all([
    Promise.all(chunks.map((c) => chunkHash(c))),
    Promise.all(chunks.map((c, i) => sealChunk(m.key, m.fileId, m.from + i, m.total, c, webRandom))),
  ]);
  const out = { frames: frames.map(ownBuffer), hashes: hashes.map(ownBuffer) };
  scope.postMessage({ op: 'reply', req: m.req, ...out }, [...out.frames, ...out.hashes]);
}

async function open(m: Extract<ToFileWorker, { op: 'open' }>): Promise<void> {
  const file = await (await filesDirectory()).getFileHandle(m.id, { create: true });
  const handle = (await (file as unknown as { createSyncAccessHandle(): Promise<SyncAccessHandle> }).createSyncAccessHandle());
  receiving.set(m.id, { key: m.key, fileId: m.fileId, total: m.total, handle });
  scope.postMessage({ op: 'reply', req: m.req });
}

/** Opens, hashes and writes one chunk; its hash, or undefined once the file was let go of. */
async function receiveChunk(r: Receiving, id: string, index: number, frame: ArrayBuffer): Promise<ArrayBuffer | undefined> {
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await openChunk(r.key, r.fileId, r.total, new Uint8Array(frame)));
  } catch (e) {
    throw Object.assign(failureOf(e), { kind: 'decrypt' as const, index });
  }
  const hash = chunkHash(plaintext);
  // Let go of meanwhile (cancelled, failed): nothing more is written.
  if (receiving.get(id) !== r || !r.handle) return undefined;
  try {
    r.handle.write(plaintext, { at: index * FILE_CHUNK_BYTES });
  } catch (e) {
    throw Object.assign(failureOf(e), { kind: 'storage' as const, index });
  }
  return ownBuffer(await hash);
}

async function chunks(m: Extract<ToFileWorker, { op: 'chunks' }>): Promise<void> {
  const r = receiving.get(m.id);
  if (!r?.handle) return;
  const results = await Promise.allSettled(m.frames.map((frame, i) => receiveChunk(r, m.id, m.first + i, frame)));
  const indexes: number[] = [];
  const hashes: ArrayBuffer[] = [];
  for (const [i, result] of results.entries()) {
    if (result.status === 'rejected') {
      const f = result.reason as WorkerFailure & { kind: 'decrypt' | 'storage'; index: number };
      scope.postMessage({ op: 'failed', id: m.id, index: f.index, kind: f.kind, failure: { name: f.name, message: f.message } });
    } else if (result.value) {
      indexes.push(m.first + i);
      hashes.push(result.value);
    }
  }
  scope.postMessage({ op: 'written', id: m.id, indexes, hashes }, hashes);
}

function release(id: string, flush: boolean): void {
  const r = receiving.get(id);
  receiving.delete(id);
  if (!r?.handle) return;
  const handle = r.handle;
  r.handle = undefined;
  try {
    if (flush) handle.flush();
  } finally {
    handle.close();
  }
}

async function handle(m: ToFileWorker): Promise<void> {
  switch (m.op) {
    case 'seal':
      return seal(m);
    case 'open':
      return open(m);
    case 'chunks':
      return chunks(m);
    case 'flush':
      receiving.get(m.id)?.handle?.flush();
      return scope.postMessage({ op: 'reply', req: m.req });
    case 'close':
      release(m.id, true);
      return scope.postMessage({ op: 'reply', req: m.req });
    case 'abort':
      try {
        release(m.id, false);
      } finally {
        await (await filesDirectory()).removeEntry(m.id).catch(() => undefined);
      }
      return scope.postMessage({ op: 'reply', req: m.req });
  }
}

scope.onmessage = (event) => {
  const m = event.data;
  handle(m).catch((e: unknown) => {
    if ('req' in m) scope.postMessage({ op: 'reply', req: m.req, failure: failureOf(e) });
  });
};
