// Runs the built server as a real child process on a free port with its own data folder, the
// way a user runs it, so tests can also kill it with SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * CI exports DATABASE_URL and REDIS_URL for the scale-out tests; the browser journeys run the
 * default server (SQLite, in-process bus) on a data folder of their own, as a user would.
 */
function withoutScaleOut(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  for (const name of ['DATABASE_URL', 'DATABASE_SCHEMA', 'DATABASE_POOL_SIZE', 'REDIS_URL', 'REDIS_PREFIX', 'PRESENCE_TTL_MS', 'TOKEN_SIGNING_KEY', 'TOKEN_SIGNING_KEY_FILE']) delete rest[name];
  return rest;
}

export interface ServerProcess {
  url: string;
  dataDir: string;
  child: ChildProcess;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * `netns`: run it inside that network namespace (the NAT traversal tests; needs root). `cwd`: run
 * the build in that folder instead (another version of Parley: e2e/v1-upgrade.test.ts).
 */
export async function startServerProcess(env: Record<string, string> = {}, options: { netns?: string; cwd?: string } = {}): Promise<ServerProcess> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'parley-e2e-'));
  const command = options.netns ? ['ip', 'netns', 'exec', options.netns, process.execPath] : [process.execPath];
  // `ip netns exec` execs node in place, so the child's pid is the server's.
  const child = spawn(command[0]!, [...command.slice(1), 'dist/server/main.js'], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { ...withoutScaleOut(process.env), PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    const check = () => {
      const m = /Parley is running at (https?:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace('localhost', '127.0.0.1'));
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  return {
    url,
    dataDir,
    child,
    output: () => out,
    kill: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Every file under `dir` (a server's data folder, searched for what it must not hold). */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}
