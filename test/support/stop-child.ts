// Stops a child process the polite way first: SIGTERM, then SIGKILL if it has not exited after
// `graceMs`. Resolves once it has exited (at once if it already had).
import type { ChildProcess } from 'node:child_process';

export function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
