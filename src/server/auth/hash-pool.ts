// Password hashing in worker threads at the lowest CPU priority (issue #5: a login storm must
// not stall signaling). bcrypt's and Argon2's async APIs run on libuv's thread pool at the same
// priority as the event loop, so on a two-core machine two hashes at once take both cores and
// every relayed frame waits for the scheduler. Here each worker lowers its own thread's priority
// to nice 19 (on Linux, setpriority on "process" 0 changes only the calling thread) and hashes
// with the synchronous APIs: the event loop wins the CPU whenever it wants it, and hashing gets
// every cycle it leaves. Knows nothing of prehashing or which hash is stored: only the calls.
//
// Where Linux and util-linux's chrt allow (Debian always has it), each worker also moves itself
// to the SCHED_IDLE policy: a nice-19 thread keeps the core until the scheduler's wake-up
// granularity says otherwise, so a relayed frame could still wait a few milliseconds for it,
// while an idle-policy thread gives way the moment anything else wakes (bench:signaling: the
// relay's p99 during a login storm about a quarter lower). Node has no call for it, hence chrt,
// run once per worker on the worker's own thread id; without chrt, nice 19 alone applies.
import { createRequire } from 'node:module';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

export type HashJob =
  | { op: 'bcrypt-hash'; input: string; cost: number }
  | { op: 'bcrypt-compare'; input: string; stored: string }
  | { op: 'argon2-hash'; input: string; options: object }
  | { op: 'argon2-verify'; input: string; stored: string };

export interface HashPool {
  run(job: HashJob): Promise<string | boolean>;
  /** How each worker thread is scheduled, read back from the thread itself (for tests). */
  priorities(): Promise<WorkerPriority[]>;
  close(): Promise<void>;
}

export interface WorkerPriority {
  nice: number;
  /** The thread runs under SCHED_IDLE; undefined where that cannot be read (not Linux). */
  idle: boolean | undefined;
}

export const HASH_THREAD_NICE = 19;

// Plain CommonJS evaluated by the worker, so the same code runs from the TypeScript sources (tsx,
// vitest) and from the build, with no worker file to locate. Module paths come from the parent.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const os = require('node:os');
const fs = require('node:fs');
try { os.setPriority(0, workerData.nice); } catch {}
let tid;
try { tid = fs.readlinkSync('/proc/thread-self').split('/').pop(); } catch {}
if (tid) try { require('node:child_process').execFileSync('chrt', ['--idle', '-p', '0', tid], { stdio: 'ignore', timeout: 5000 }); } catch {}
// Field 41 of /proc/<tid>/stat, counted after the command name (which may hold spaces): 5 is SCHED_IDLE.
const idle = () => {
  try { return fs.readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[38] === '5'; } catch { return undefined; }
};
const bcrypt = require(workerData.bcrypt);
const argon2 = require(workerData.argon2);
parentPort.on('message', (m) => {
  try {
    let value;
    if (m.op === 'bcrypt-hash') value = bcrypt.hashSync(m.input, m.cost);
    else if (m.op === 'bcrypt-compare') value = bcrypt.compareSync(m.input, m.stored);
    else if (m.op === 'argon2-hash') value = argon2.hashSync(m.input, m.options);
    else if (m.op === 'argon2-verify') value = argon2.verifySync(m.stored, m.input);
    else if (m.op === 'priority') value = { nice: os.getPriority(0), idle: idle() };
    else throw new Error('unknown operation');
    parentPort.postMessage({ id: m.id, value });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: e && e.message ? e.message : 'hash failed' });
  }
});
`;

interface Pending {
  resolve(value: string | boolean | WorkerPriority): void;
  reject(e: Error): void;
}

export function createHashPool(size = Math.max(1, os.availableParallelism())): HashPool {
  const require = createRequire(import.meta.url);
  const workerData = { nice: HASH_THREAD_NICE, bcrypt: require.resolve('bcrypt'), argon2: require.resolve('@node-rs/argon2') };
  const workers: { worker: Worker; inflight: number; pending: Map<number, Pending> }[] = [];
  const queue: { message: object & { id: number }; pending: Pending }[] = [];
  let nextId = 1;

  const dispatch = () => {
    for (const slot of workers) {
      if (slot.inflight > 0) continue;
      const job = queue.shift();
      if (!job) return;
      slot.inflight++;
      slot.pending.set(job.message.id, job.pending);
      slot.worker.postMessage(job.message);
    }
  };

  const spawn = () => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    // Idle workers must not keep the process alive after the server closes.
    worker.unref();
    const slot = { worker, inflight: 0, pending: new Map<number, Pending>() };
    worker.on('message', (m: { id: number; value?: string | boolean | WorkerPriority; error?: string }) => {
      const p = slot.pending.get(m.id);
      slot.pending.delete(m.id);
      slot.inflight--;
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.value!);
      dispatch();
    });
    worker.on('error', (e) => {
      // A crashed worker fails its job and is replaced; the others carry on.
      for (const p of slot.pending.values()) p.reject(e);
      workers.splice(workers.indexOf(slot), 1);
      spawn();
      dispatch();
    });
    workers.push(slot);
  };

  const submit = <T>(message: object): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (workers.length === 0) for (let i = 0; i < size; i++) spawn();
      queue.push({ message: { ...message, id: nextId++ }, pending: { resolve: resolve as Pending['resolve'], reject } });
      dispatch();
    });

  return {
    run: (job) => submit<string | boolean>(job),
    async priorities() {
      if (workers.length === 0) for (let i = 0; i < size; i++) spawn();
      return Promise.all(workers.map((slot) => new Promise<WorkerPriority>((resolve, reject) => {
        const id = nextId++;
        // Asked of each worker directly, even while busy: its answer comes after its current job.
        slot.pending.set(id, { resolve: resolve as Pending['resolve'], reject });
        slot.inflight++;
        slot.worker.postMessage({ id, op: 'priority' });
      })));
    },
    async close() {
      const all = workers.splice(0);
      await Promise.all(all.map((slot) => slot.worker.terminate()));
    },
  };
}
