// File contents in the origin-private file system (OPFS): written chunk by chunk at their
// offsets, never held whole in memory, and read back as a disk-backed File for saving.
// A writable's data lands on disk when it is closed; transfers close and reopen it at
// checkpoints so a dropped channel loses at most the last few megabytes.

const DIR = 'parley-files';

async function directory(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DIR, { create: true });
}

export interface ChunkWriter {
  write(position: number, data: Uint8Array): Promise<void>;
  /** Commits what was written so far. */
  close(): Promise<void>;
  /** Drops what was written since the last close (after a failed write). */
  abort(): Promise<void>;
}

/** Consecutive chunks are gathered up to this size before one write: each write is a round trip. */
const BATCH_BYTES = 4 * 1024 * 1024;

export async function openWriter(id: string): Promise<ChunkWriter> {
  const handle = await (await directory()).getFileHandle(id, { create: true });
  const writable = await handle.createWritable({ keepExistingData: true });
  let batch = new Uint8Array(BATCH_BYTES);
  let batchStart = 0;
  let batchLength = 0;
  const flush = async () => {
    if (batchLength === 0) return;
    await writable.write({ type: 'write', position: batchStart, data: batch.subarray(0, batchLength) });
    batch = new Uint8Array(BATCH_BYTES);
    batchLength = 0;
  };
  return {
    async write(position, data) {
      const contiguous = batchLength > 0 && position === batchStart + batchLength;
      if (!contiguous || batchLength + data.length > BATCH_BYTES) await flush();
      if (batchLength === 0) batchStart = position;
      if (data.length > BATCH_BYTES) {
        await writable.write({ type: 'write', position, data: new Uint8Array(data) });
        return;
      }
      batch.set(data, batchLength);
      batchLength += data.length;
    },
    async close() {
      await flush();
      await writable.close();
    },
    async abort() {
      batchLength = 0;
      await writable.abort();
    },
  };
}

/** Bytes this origin may still store, or undefined when the browser does not say. */
export async function freeSpace(): Promise<number | undefined> {
  try {
    const { quota, usage } = await navigator.storage.estimate();
    return quota === undefined ? undefined : quota - (usage ?? 0);
  } catch {
    return undefined;
  }
}

export async function readFile(id: string, name: string, mime: string): Promise<File> {
  const file = await (await (await directory()).getFileHandle(id)).getFile();
  return new File([file], name, { type: mime || 'application/octet-stream' });
}

export async function removeFile(id: string): Promise<void> {
  await (await directory()).removeEntry(id).catch(() => undefined);
}
