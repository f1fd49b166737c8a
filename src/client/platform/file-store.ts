// File contents in the origin-private file system (OPFS), from the page's side: room left,
// a received file read back as a disk-backed File for saving, and removal. Received chunks are
// written by the file worker (file-worker.ts), in place, through a synchronous access handle.

const DIR = 'parley-files';

/** Where files live; the page and the file worker both reach it. */
export async function filesDirectory(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(DIR, { create: true });
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
  const file = await (await (await filesDirectory()).getFileHandle(id)).getFile();
  return new File([file], name, { type: mime || 'application/octet-stream' });
}

export async function removeFile(id: string): Promise<void> {
  await (await filesDirectory()).removeEntry(id).catch(() => undefined);
}
