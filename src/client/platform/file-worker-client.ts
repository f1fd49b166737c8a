// The page's side of the file worker (file-worker.ts): one worker for all of an account's
// transfers, started on first use. Sealing is asked for a window of chunks at a time; a file
// being received is a sink that takes chunk frames as they arrive and reports them written,
// with their hashes, or why one could not be.
import { ownBuffer } from '../../crypto/bytes.ts';
import type { FromFileWorker, ToFileWorker, WorkerFailure } from './file-worker-messages.ts';

/** A failure inside the worker, rethrown on the page as the browser named it. */
export class FileWorkerError extends Error {
  constructor(readonly failure: WorkerFailure) {
    super(failure.message);
    this.name = failure.name;
  }
}

export interface SealedWindow {
  frames: Uint8Array<ArrayBuffer>[];
  hashes: Uint8Array[];
}

export interface SinkEvents {
  /** Chunk `index` is written and hashed. */
  written(index: number, hash: Uint8Array): void;
  /** Chunk `index` could not be opened (altered, foreign) or written. */
  failed(index: number, kind: 'decrypt' | 'storage', failure: WorkerFailure): void;
}

/** A file being received into the origin-private file system. */
export interface FileSink {
  /** Hands over a chunk frame (its buffer moves to the worker). */
  push(index: number, frame: Uint8Array): void;
  /** Resolves once every chunk pushed so far is written or failed. */
  settled(): Promise<void>;
  /** Makes what was written durable. */
  flush(): Promise<void>;
  /** Makes it durable and lets go of the file. */
  close(): Promise<void>;
  /** Lets go of the file and removes it. */
  abort(): Promise<void>;
}

/** Received frames go to the worker together (1 MiB), or after this long. */
const BATCH_FRAMES = 16;
const BATCH_WAIT_MS = 5;

type Request = ToFileWorker extends infer T ? (T extends { req: number } ? Omit<T, 'req'> : never) : never;
type Reply = Extract<FromFileWorker, { op: 'reply' }>;

interface SinkState {
  events: SinkEvents;
  pending: number;
  idle: Array<() => void>;
}


function settle(state: SinkState): void {
  if (state.pending === 0) for (const resolve of state.idle.splice(0)) resolve();
}

export class FileWorker {
  private worker: Worker | undefined;
  private nextReq = 1;
  private readonly waiting = new Map<number, { resolve: (m: Reply) => void; reject: (e: unknown) => void }>();
  private readonly sinks = new Map<string, SinkState>();

  /** Reads, hashes and seals chunks `from` … `from + count - 1` of `file`. */
  async seal(file: Blob, key: CryptoKey, fileId: Uint8Array, total: number, from: number, count: number): Promise<SealedWindow> {
    const reply = await this.request({ op: 'seal', file, key, fileId, total, from, count });
    return { frames: (reply.frames ?? []).map((b) => new Uint8Array(b)), hashes: (reply.hashes ?? []).map((b) => new Uint8Array(b)) };
  }

  /** Opens file `id` to receive into; one sink per file at a time. */
  async receive(id: string, key: CryptoKey, fileId: Uint8Array, total: number, events: SinkEvents): Promise<FileSink> {
    await this.request({ op: 'open', id, key, fileId, total });
    const state: SinkState = { events, pending: 0, idle: [] };
    this.sinks.set(id, state);
    // One message per frame costs this page more than the frame's whole way through the worker.
    let batch: ArrayBuffer[] = [];
    let first = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const send = () => {
      clearTimeout(timer);
      timer = undefined;
      if (!batch.length) return;
      const frames = batch;
      batch = [];
      this.post({ op: 'chunks', id, first, frames }, frames);
    };
    const letGo = async (op: 'close' | 'abort') => {
      clearTimeout(timer);
      batch = [];
      try {
        await this.request({ op, id });
      } finally {
        if (this.sinks.get(id) === state) this.sinks.delete(id);
        state.pending = 0;
        settle(state);
      }
    };
    return {
      push: (index, frame) => {
        state.pending++;
        if (!batch.length) first = index;
        batch.push(ownBuffer(frame));
        if (batch.length >= BATCH_FRAMES) send();
        else timer ??= setTimeout(send, BATCH_WAIT_MS);
      },
      settled: () => {
        send();
        return state.pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => state.idle.push(resolve));
      },
      flush: async () => {
        send();
        await this.request({ op: 'flush', id });
      },
      close: () => letGo('close'),
      abort: () => letGo('abort'),
    };
  }

  /** Stops the worker; requests still waiting fail, and sinks count as settled. */
  terminate(): void {
    this.worker?.terminate();
    this.worker = undefined;
    for (const { reject } of this.waiting.values()) reject(new Error('the file worker stopped'));
    this.waiting.clear();
    for (const state of this.sinks.values()) {
      state.pending = 0;
      settle(state);
    }
    this.sinks.clear();
  }

  private async request(message: Request): Promise<Reply> {
    const req = this.nextReq++;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.waiting.set(req, { resolve, reject });
      this.post({ ...message, req } as ToFileWorker);
    });
    if (reply.failure) throw new FileWorkerError(reply.failure);
    return reply;
  }

  private post(message: ToFileWorker, transfer: Transferable[] = []): void {
    this.started().postMessage(message, transfer);
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./file-worker.ts', import.meta.url), { type: 'module', name: 'parley-files' });
    worker.onmessage = (event: MessageEvent<FromFileWorker>) => this.onMessage(event.data);
    // A worker that cannot start (or dies) fails what waits on it; the next use starts anew.
    worker.onerror = () => {
      const states = [...this.sinks.values()];
      this.terminate();
      for (const state of states) state.events.failed(-1, 'storage', { name: 'Error', message: 'the file worker stopped' });
    };
    this.worker = worker;
    return worker;
  }

  private onMessage(m: FromFileWorker): void {
    if (m.op === 'reply') {
      const w = this.waiting.get(m.req);
      this.waiting.delete(m.req);
      w?.resolve(m);
      return;
    }
    const state = this.sinks.get(m.id);
    if (!state) return;
    if (m.op === 'written') {
      m.indexes.forEach((index, i) => state.events.written(index, new Uint8Array(m.hashes[i]!)));
      state.pending = Math.max(0, state.pending - m.indexes.length);
    } else {
      state.events.failed(m.index, m.kind, m.failure);
      state.pending = Math.max(0, state.pending - 1);
    }
    settle(state);
  }
}
