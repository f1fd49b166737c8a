// Pebble, Let's Encrypt's test CA (Debian package `pebble`), started for one test file: its own
// config and TLS certificate in a temp folder, free ports, and pebble-challtestsrv as its DNS
// server, answering 127.0.0.1 for every name so that http-01 validation reaches Parley's plain
// HTTP listener on `httpPort`. Everything started here is stopped by stop(), also after a failure
// half-way through starting.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { generateSelfSigned } from '../../src/server/tls/self-signed.ts';
import { stopChild } from './stop-child.ts';
import { freePort } from './ports.ts';

export const PEBBLE = '/usr/bin/pebble';
export const CHALLTESTSRV = '/usr/bin/pebble-challtestsrv';

export interface Pebble {
  directoryUrl: string;
  /** The certificate of Pebble's own HTTPS listener: what ACME_CA_FILE must trust. */
  listenerCaFile: string;
  /** Where Pebble sends http-01 validation requests: Parley's HTTP_REDIRECT_PORT. */
  httpPort: number;
  /** Pebble's issuing root (made afresh at every start), PEM. */
  root(): Promise<string>;
  /** Pebble's log so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Why the Pebble tests cannot run here, or undefined when they can. */
export function pebbleMissing(): string | undefined {
  const missing = [PEBBLE, CHALLTESTSRV].filter((f) => !existsSync(f));
  return missing.length ? `${missing.join(' and ')} not found; install Debian's pebble package (apt-get install pebble; npm test does so as root)` : undefined;
}


function fetchText(url: string, ca: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { ca, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms; its output:\n${log()}`);
}

export async function startPebble(options: { certificateValiditySeconds?: number } = {}): Promise<Pebble> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-pebble-'));
  const children: ChildProcess[] = [];
  let log = '';
  const run = (file: string, args: string[], env: Record<string, string> = {}) => {
    const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const name = path.basename(file);
    const take = (b: Buffer) => {
      log = (log + b.toString('utf8').replace(/^/gm, `[${name}] `)).slice(-20_000);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('error', (e) => take(Buffer.from(`spawn failed: ${e.message}\n`)));
    children.push(child);
    return child;
  };
  // If the test process dies without afterAll, take Pebble with it.
  const killAll = () => children.forEach((child) => child.kill('SIGKILL'));
  process.once('exit', killAll);
  const stop = async () => {
    process.off('exit', killAll);
    await Promise.all(children.map((child) => stopChild(child)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const [listenPort, managementPort, httpPort, tlsPort, dnsPort, challManagementPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
    const listener = await generateSelfSigned(['localhost']);
    const certificate = path.join(dir, 'pebble.crt');
    const privateKey = path.join(dir, 'pebble.key');
    writeFileSync(certificate, listener.cert);
    writeFileSync(privateKey, listener.key);
    const config = {
      pebble: {
        listenAddress: `127.0.0.1:${listenPort}`,
        managementListenAddress: `127.0.0.1:${managementPort}`,
        certificate,
        privateKey,
        httpPort,
        tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        // Pebble 2.4 reads this (seconds); without it certificates last five years.
        ...(options.certificateValiditySeconds ? { certificateValidityPeriod: options.certificateValiditySeconds } : {}),
      },
    };
    const configFile = path.join(dir, 'pebble-config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));

    // DNS only: every A query gets 127.0.0.1, and no AAAA answer, so validation uses IPv4.
    run(CHALLTESTSRV, ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${challManagementPort}`, '-defaultIPv4', '127.0.0.1', '-defaultIPv6', '']);
    // No artificial validation sleeps; always a fresh authorization, so every order is validated.
    run(PEBBLE, ['-config', configFile, '-dnsserver', `127.0.0.1:${dnsPort}`], { PEBBLE_VA_NOSLEEP: '1', PEBBLE_AUTHZREUSE: '0' });

    const directoryUrl = `https://127.0.0.1:${listenPort}/dir`;
    await waitFor('pebble', async () => (await fetchText(directoryUrl, listener.cert)).status === 200, 15_000, () => log);
    return {
      directoryUrl,
      listenerCaFile: certificate,
      httpPort,
      async root() {
        const res = await fetchText(`https://127.0.0.1:${managementPort}/roots/0`, listener.cert);
        if (res.status !== 200) throw new Error(`pebble /roots/0 answered ${res.status}`);
        return res.text;
      },
      output: () => log,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
