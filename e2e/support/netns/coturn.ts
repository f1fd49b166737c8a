// coturn inside the test network's server namespace, started through scripts/coturn-dev.sh so
// the tests run the repository's configuration (deploy/coturn/turnserver.conf.example) with
// only addresses, ports, secret and certificate replaced, and one line left out: the denial
// of 198.18.0.0/15, the benchmarking range that plays the public internet here. Addresses on
// it are then allowed the way production allows public ones (not by an allowed-peer-ip
// override, which would hide a denied list that refuses everything).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADDR, type Topology } from './topology.ts';
import { stopChild } from '../../../test/support/stop-child.ts';

export interface Coturn {
  secret: string;
  /** base64 SHA-256 of the certificate's public key, for Chromium's --ignore-certificate-errors-spki-list. */
  spki: string;
  output(): string;
  stop(): Promise<void>;
}

export const TURN_PORT = 3478;
export const TURN_TLS_PORT = 443;

export interface CoturnOptions {
  listen?: string;
  tlsPort?: number;
  relayPorts?: string;
}

export async function startCoturn(t: Topology, options: CoturnOptions = {}): Promise<Coturn> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-coturn-'));
  const secret = randomBytes(32).toString('hex');
  const child = t.spawn('srv', 'bash', [
    'scripts/coturn-dev.sh',
    '--listen', options.listen ?? ADDR.turn,
    '--port', String(TURN_PORT),
    '--tls-port', String(options.tlsPort ?? TURN_TLS_PORT),
    '--relay-ports', options.relayPorts ?? '49160-49400',
    '--secret', secret,
    '--realm', 'parley.test',
    '--dir', dir,
    '--public-range', ADDR.publicRange,
  ]);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coturn did not start:\n${out}`)), 20_000);
    const check = () => {
      if (/Total General servers/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`coturn exited with ${code}:\n${out}`));
    });
  });
  await new Promise((r) => setTimeout(r, 300));
  const spki = /--ignore-certificate-errors-spki-list=(\S+)/.exec(out)?.[1];
  if (!spki) throw new Error(`coturn-dev.sh printed no certificate hash:\n${out}`);
  return {
    secret,
    spki,
    output: () => out,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
