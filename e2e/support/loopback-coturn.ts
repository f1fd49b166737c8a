// coturn on 127.0.0.1 for browser tests on this machine, started through scripts/coturn-dev.sh
// (the repository's configuration, with --allow-loopback so two browsers here can relay to each
// other). Needs no root: ports are picked free, state lives in a folder of its own.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { stopChild } from '../../test/support/stop-child.ts';

export interface LoopbackCoturn {
  /** What to give Parley (TURN_URLS, TURN_SECRET). */
  env: Record<string, string>;
  output(): string;
  stop(): Promise<void>;
}

/** Why coturn cannot run here, or undefined. */
export function whyNoCoturn(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v turnserver && command -v openssl'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'coturn (turnserver) or openssl is not installed; as root, scripts/test.sh installs them (apt-get install -y coturn)';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startLoopbackCoturn(): Promise<LoopbackCoturn> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-coturn-lo-'));
  const secret = randomBytes(32).toString('hex');
  const [port, tlsPort] = [await freePort(), await freePort()];
  const relayFrom = 50_000 + Math.floor(Math.random() * 10_000);
  const child = spawn('bash', [
    'scripts/coturn-dev.sh',
    '--listen', '127.0.0.1',
    '--port', String(port),
    '--tls-port', String(tlsPort),
    '--relay-ports', `${relayFrom}-${relayFrom + 100}`,
    '--secret', secret,
    '--realm', 'parley.test',
    '--dir', dir,
    '--allow-loopback',
  ]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coturn did not start:\n${out}`)), 20_000);
    const check = () => {
      if (/Total General servers/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`coturn exited with ${code}:\n${out}`));
    });
  });
  return {
    env: { TURN_URLS: `turn:127.0.0.1:${port}?transport=udp`, TURN_SECRET: secret },
    output: () => out,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
