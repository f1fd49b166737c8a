// Running the system tools the network tests need (ip, iptables, tc, sysctl), each bounded in
// time, each failure reported with the command and what it printed.
import { execFile, execFileSync } from 'node:child_process';

export class CommandError extends Error {
  override name = 'CommandError';
}

export function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new CommandError(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** For cleanup on the way out (process exit), where nothing asynchronous runs any more. */
export function runSyncQuietly(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { timeout: 5_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

export function inNs(ns: string, cmd: string, args: string[], timeoutMs?: number): Promise<string> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
}

export async function has(cmd: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}
