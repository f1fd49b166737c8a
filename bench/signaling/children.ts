// Child processes of the signaling benchmark and a request/answer channel over their IPC pipe.
// Every child started here is remembered and killed when the benchmark exits, is interrupted or
// fails, so no server or load generator outlives a run. Knows nothing of what the children do.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const live = new Set<ChildProcess>();

function killAll(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}

export interface Child {
  readonly pid: number;
  request<T>(cmd: string, args?: object): Promise<T>;
  /** Resolves when the child has gone. */
  stop(): Promise<void>;
}

/**
 * Forks `bench/signaling/<script>` with --expose-gc and the given environment: under tsx, or,
 * given `compiledRoot`, the JavaScript tsc made of it there (what production runs: tsx keeps
 * function names by giving every closure an own `name` property, a few KB per connection).
 */
export function startChild(script: string, env: NodeJS.ProcessEnv, label: string, compiledRoot?: string): Child {
  const file = compiledRoot ? path.join(compiledRoot, 'bench', 'signaling', script.replace(/\.ts$/, '.js')) : path.join(here, script);
  const server = script.startsWith('server');
  // While investigating: BENCH_CPU_PROF=dir profiles each relay; BENCH_RELAY_FLAGS adds V8 flags
  // to each relay (say --trace-gc, to see pauses).
  const investigate = [
    ...(process.env.BENCH_CPU_PROF && server ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ...(process.env.BENCH_RELAY_FLAGS && server ? process.env.BENCH_RELAY_FLAGS.split(' ').filter(Boolean) : []),
  ];
  const child = fork(file, [], {
    execArgv: [...(compiledRoot ? [] : ['--import', 'tsx']), '--expose-gc', '--max-old-space-size=4096', ...investigate],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  let nextId = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A message sent before the child listens would be lost: wait for its word that it does.
  let markListening: () => void;
  const listening = new Promise<void>((resolve) => (markListening = resolve));
  child.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: string; listening?: boolean }) => {
    if (m.listening) return markListening();
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(`${label}: ${m.error}`));
  });
  child.once('exit', (code, signal) => {
    live.delete(child);
    for (const w of waiting.values()) w.reject(new Error(`${label} exited (${signal ?? code}) during a request`));
    waiting.clear();
  });
  return {
    pid: child.pid!,
    request<T>(cmd: string, args: object = {}) {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        void listening.then(() => child.send({ id, cmd, ...args }));
      });
    },
    async stop() {
      // SIGTERM first: a --cpu-prof child writes its profile on a clean exit.
      if (child.exitCode === null && child.signalCode === null) child.kill(process.env.BENCH_CPU_PROF ? 'SIGTERM' : 'SIGKILL');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child's side: answers each request with its handler's result, and dies with its parent. */
export function serveRequests(handlers: Record<string, (args: any) => Promise<unknown> | unknown>): void {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { id: number; cmd: string }) => {
    const handler = handlers[m.cmd];
    Promise.resolve()
      .then(() => (handler ? handler(m) : Promise.reject(new Error(`unknown command ${m.cmd}`))))
      .then(
        (value) => process.send!({ id: m.id, ok: true, value }),
        (e: unknown) => process.send!({ id: m.id, ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) }),
      );
  });
  process.send!({ listening: true });
}
