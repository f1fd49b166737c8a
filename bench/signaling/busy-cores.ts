// Background CPU with no work of Parley's in it: one busy loop per core at the lowest priority
// (SCHED_IDLE where chrt exists, else nice 19), the same priority Parley's hashing threads run at.
// A relay's latency beside it says what saturated cores cost any relay on this machine, the
// baseline for the login storm, whose hashing saturates the cores the same way.
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';

const LOOP = 'while :; do :; done';

export interface BusyCores {
  stop(): Promise<void>;
}

const LOWEST = `if command -v chrt >/dev/null; then exec chrt --idle 0 sh -c '${LOOP}'; else exec nice -n 19 sh -c '${LOOP}'; fi`;

/** `count` loops, wherever the scheduler puts them; or one loop held to core `pinTo` (taskset). */
export function startBusyCores(count = os.availableParallelism(), pinTo?: number): BusyCores {
  const loops: ChildProcess[] = Array.from({ length: count }, () =>
    pinTo === undefined ? spawn('sh', ['-c', LOWEST], { stdio: 'ignore' }) : spawn('taskset', ['-c', String(pinTo), 'sh', '-c', LOWEST], { stdio: 'ignore' }),
  );
  return {
    async stop() {
      await Promise.all(
        loops.map((c) => new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGKILL');
        })),
      );
    },
  };
}
