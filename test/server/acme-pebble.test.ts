// Certificates by ACME (issue #5) against Pebble, Let's Encrypt's test CA, for real: Parley
// registers, answers http-01 on its plain-HTTP listener, stores what it gets in DATA_DIR/acme/,
// serves it, and renews it when a third of its validity is left, on the same listening socket.
// Pebble issues certificates of 30 seconds here, so the renewal comes 20 seconds after issuance.
// When the CA refuses (its http-01 check finds nothing), the failure and Pebble's reason are
// logged and the certificate in service stays.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmePaths } from '../../src/server/tls/acme-files.ts';
import { renewalTime } from '../../src/server/tls/acme.ts';
import { pebbleMissing, startPebble, type Pebble } from '../support/pebble.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const skipReason = pebbleMissing();
if (skipReason) console.log(`[acme] ACME tests against Pebble SKIPPED: ${skipReason}`);

const DOMAIN = 'parley.test';
// Long enough that an order (1–4 s on a busy two-core machine) ends well before expiry.
const VALIDITY_SECONDS = 30;

interface Served {
  cert: X509Certificate;
  /** Whether the chain verified against Pebble's root for DOMAIN. */
  authorized: boolean;
  authorizationError: string | undefined;
}

/** A new TLS connection: what certificate does the server present for DOMAIN? */
function served(port: number, ca?: string): Promise<Served> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: DOMAIN, ca, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (!cert) return reject(new Error('no certificate'));
      resolve({ cert, authorized: socket.authorized, authorizationError: socket.authorizationError?.toString() });
    });
    socket.on('error', reject);
  });
}

function request(socket: TLSSocket, pathname: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (b: Buffer) => {
      text += b.toString('utf8');
      if (/\r\n\r\n[\s\S]*\}/.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${DOMAIN}\r\nConnection: keep-alive\r\n\r\n`);
  });
}

describe.skipIf(skipReason)('certificates by ACME against Pebble (issue #5)', () => {
  let pebble: Pebble;
  let root: string;
  let running: TestServer | undefined;
  const logs: string[] = [];
  const start = (dataDir?: string, env: Record<string, string> = {}) =>
    startTestServer(
      {
        ACME_DOMAINS: DOMAIN,
        ACME_EMAIL: 'admin@parley.test',
        ACME_DIRECTORY_URL: pebble.directoryUrl,
        ACME_CA_FILE: pebble.listenerCaFile,
        HTTP_REDIRECT_PORT: String(pebble.httpPort),
        LOG_LEVEL: 'info',
        ...(dataDir ? { DATA_DIR: dataDir } : {}),
        ...env,
      },
      { logger: undefined, logStream: { write: (line) => void logs.push(line) } },
    );

  beforeAll(async () => {
    pebble = await startPebble({ certificateValiditySeconds: VALIDITY_SECONDS });
    root = await pebble.root();
  }, 30_000);
  let ownDataDir: string | undefined;
  afterAll(async () => {
    try {
      await running?.close();
    } finally {
      await pebble?.stop();
      if (ownDataDir) rmSync(ownDataDir, { recursive: true, force: true });
    }
  }, 20_000);

  let first: X509Certificate;

  it('obtains a certificate on first start, serves it, and keeps its keys private in DATA_DIR/acme', async () => {
    // The test's own folder, not the test server's: a restart below starts again from it, after
    // the server that made its own folder would have removed it on close.
    ownDataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-acme-'));
    running = await start(ownDataDir);
    // Until the order completes the self-signed certificate serves.
    await expect
      .poll(async () => (await served(running!.server.port, root)).authorized, { timeout: 20_000, interval: 200 })
      .toBe(true)
      .catch((e: Error) => {
        throw new Error(`${e.message}\nParley log:\n${logs.join('')}\nPebble:\n${pebble.output()}`);
      });
    const now = await served(running.server.port, root);
    first = now.cert;
    expect(first.checkHost(DOMAIN)).toBe(DOMAIN);
    expect(first.issuer).toMatch(/Pebble Intermediate/);

    const paths = acmePaths(running.dataDir);
    expect(new X509Certificate(readFileSync(paths.cert)).serialNumber).toBe(first.serialNumber);
    for (const secret of [paths.key, paths.accountKey]) expect(statSync(secret).mode & 0o077).toBe(0);
    const obtained = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'ACME certificate obtained');
    expect(obtained).toMatchObject({ domains: [DOMAIN], serial: first.serialNumber });
    // No key material in the log.
    expect(logs.join('')).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  }, 30_000);

  it('renews when a third of the validity is left, and new connections get the new certificate without a restart', async () => {
    expect(running, 'needs the server of the previous test').toBeDefined();
    const validity = Date.parse(first.validTo) - Date.parse(first.validFrom);
    expect(validity).toBeLessThanOrEqual(VALIDITY_SECONDS * 1000);
    // A connection opened before the renewal, kept open across it.
    const kept = connect({ host: '127.0.0.1', port: running!.server.port, servername: DOMAIN, ca: root });
    try {
      await new Promise((resolve, reject) => kept.once('secureConnect', resolve).once('error', reject));
      await renewsWhileConnected(kept);
    } finally {
      kept.destroy();
    }
  }, 45_000);

  async function renewsWhileConnected(kept: TLSSocket): Promise<void> {
    await expect.poll(async () => (await served(running!.server.port, root)).cert.serialNumber, { timeout: 35_000, interval: 250 }).not.toBe(first.serialNumber);
    const renewed = await served(running!.server.port, root);
    expect(renewed.authorized, renewed.authorizationError).toBe(true);
    expect(renewed.cert.checkHost(DOMAIN)).toBe(DOMAIN);
    // Renewed after the renewal point of the first, before it expired.
    const renewedAt = Date.parse(renewed.cert.validFrom);
    expect(renewedAt).toBeGreaterThanOrEqual(renewalTime({ notBefore: Date.parse(first.validFrom), notAfter: Date.parse(first.validTo) }) - 1000);
    expect(renewedAt).toBeLessThan(Date.parse(first.validTo));
    // The fresh order made a fresh key.
    expect(renewed.cert.publicKey.export({ format: 'der', type: 'spki' }).equals(first.publicKey.export({ format: 'der', type: 'spki' }))).toBe(false);

    expect(await request(kept, '/healthz')).toMatch(/^HTTP\/1\.1 200/);
    expect(logs.some((l) => l.includes('"ACME certificate renewed"'))).toBe(true);
  }

  it('serves the stored certificate at once after a restart, without ordering another', async () => {
    const dataDir = running!.dataDir;
    await running!.close();
    running = undefined;
    const stored = new X509Certificate(readFileSync(acmePaths(dataDir).cert));
    logs.length = 0;
    running = await start(dataDir);
    const now = await served(running.server.port, root);
    expect(now.cert.serialNumber).toBe(stored.serialNumber);
    expect(now.authorized).toBe(true);
    expect(logs.some((l) => l.includes('"ACME certificate obtained"'))).toBe(false);
  }, 30_000);

  it('keeps serving what it has when the CA refuses, and logs the CA\'s reason', async () => {
    await running?.close();
    running = undefined;
    logs.length = 0;
    // Parley's HTTP listener is not where Pebble looks, so the http-01 validation fails.
    running = await start(undefined, { HTTP_REDIRECT_PORT: String(await freePort()) });
    const failed = () => logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'ACME order failed; keeping the certificate in service and retrying');
    await expect.poll(failed, { timeout: 20_000, interval: 200 }).toBeDefined();
    expect(failed()).toMatchObject({ domains: [DOMAIN], failures: 1, retryInMs: 5 * 60_000, inService: 'self-signed' });
    // Pebble's own words: where it looked and what happened.
    expect(failed()!.error).toMatch(/acme-challenge.*connection refused/);
    const now = await served(running.server.port, root);
    expect(now.authorized).toBe(false);
    expect(now.cert.subject).toMatch(/Parley \(self-signed\)/);
  }, 30_000);
});
