// What the page and the file worker (file-worker.ts) tell each other. Requests that expect an
// answer carry `req`; received chunks are answered one by one, by file and index.

/** Names a failure as the browser did (a DOMException's name), so the page can tell why. */
export interface WorkerFailure {
  name: string;
  message: string;
}

export type ToFileWorker =
  /** Reads `count` chunks of `file` from chunk `from` in one read, hashes and seals each. */
  | { op: 'seal'; req: number; file: Blob; key: CryptoKey; fileId: Uint8Array; total: number; from: number; count: number }
  /** Opens (or creates) the file's place on disk to receive into, keeping what is there. */
  | { op: 'open'; req: number; id: string; key: CryptoKey; fileId: Uint8Array; total: number }
  /** Received chunk frames, in order, the first of which named `first` in its header. */
  | { op: 'chunks'; id: string; first: number; frames: ArrayBuffer[] }
  /** Makes what was written durable. */
  | { op: 'flush'; req: number; id: string }
  /** Makes what was written durable and lets go of the file. */
  | { op: 'close'; req: number; id: string }
  /** Lets go of the file and removes it. */
  | { op: 'abort'; req: number; id: string };

export type FromFileWorker =
  | { op: 'reply'; req: number; failure?: WorkerFailure; frames?: ArrayBuffer[]; hashes?: ArrayBuffer[] }
  /** Chunks were opened, hashed and written at their places. */
  | { op: 'written'; id: string; indexes: number[]; hashes: ArrayBuffer[] }
  /** A chunk could not be opened (`decrypt`) or written (`storage`). */
  | { op: 'failed'; id: string; index: number; kind: 'decrypt' | 'storage'; failure: WorkerFailure };
