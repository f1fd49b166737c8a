// The server as a separate process, run from source with tsx, so a test can kill it with
// SIGKILL and start it again on the same data folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestServer } from './server.ts';

/**
 * The environment minus the scale-out settings, which CI exports for the tests that want them:
 * a test that does not pass them explicitly gets the default server (SQLite, in-process bus),
 * never a shared database it did not ask for.
 */
export function withoutScaleOut(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const rest = { ...env };
  for (const name of SCALE_OUT_SETTINGS) delete rest[name];
  return rest;
}
const SCALE_OUT_SETTINGS = ['DATABASE_URL', 'DATABASE_SCHEMA', 'DATABASE_POOL_SIZE', 'REDIS_URL', 'REDIS_PREFIX', 'PRESENCE_TTL_MS', 'TOKEN_SIGNING_KEY', 'TOKEN_SIGNING_KEY_FILE'];

export interface ServerChild extends TestServer {
  child: ChildProcess;
  /** Everything the process printed so far (JSON log lines and the startup line). */
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnServer(dataDir: string, env: Record<string, string> = {}, args: string[] = []): Promise<ServerChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts', ...args], {
    env: { ...withoutScaleOut(process.env), PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, CLIENT_DIR: '', BCRYPT_COST: '4', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    child.stdout!.on('data', () => {
      const m = /Parley is running at https:\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const kill = (signal: NodeJS.Signals = 'SIGTERM') =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  return {
    child,
    kill,
    output: () => out,
    base: `https://127.0.0.1:${port}`,
    wsUrl: `wss://127.0.0.1:${port}/ws`,
    ca: readFileSync(path.join(dataDir, 'tls', 'self-signed.crt')),
    dataDir,
    server: undefined as never,
    close: () => kill(),
  };
}
