// HTTPS out of the box, real certificates by configuration, and renewal without a restart.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { generateSelfSigned, selfSignedPaths } from '../../src/server/tls/self-signed.ts';
import { http, startTestServer, type TestServer } from '../support/server.ts';

function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      const raw = socket.getPeerX509Certificate();
      socket.end();
      if (raw) resolve(raw);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

let running: TestServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('TLS', () => {
  it('makes a self-signed certificate on first start, with a private key only its owner can read', async () => {
    running = await startTestServer();
    const { certFile, keyFile } = selfSignedPaths(running.dataDir);
    expect(existsSync(certFile)).toBe(true);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    const cert = new X509Certificate(readFileSync(certFile));
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    const served = await servedCertificate(running.server.port);
    expect(served.fingerprint256).toBe(cert.fingerprint256);
  });

  it('keeps the same self-signed certificate across restarts', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-tls-'));
    running = await startTestServer({ DATA_DIR: dataDir });
    const first = await servedCertificate(running.server.port);
    await running.close();
    running = await startTestServer({ DATA_DIR: dataDir });
    const second = await servedCertificate(running.server.port);
    expect(second.fingerprint256).toBe(first.fingerprint256);
  });

  it('serves TLS_CERT/TLS_KEY and picks up renewed files without a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-cert-'));
    const certFile = path.join(dir, 'fullchain.pem');
    const keyFile = path.join(dir, 'privkey.pem');
    const first = await generateSelfSigned(['first.example']);
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    running = await startTestServer({ TLS_CERT: certFile, TLS_KEY: keyFile, TLS_RELOAD_INTERVAL_MS: '100' });
    expect((await servedCertificate(running.server.port)).subjectAltName).toContain('DNS:first.example');

    // A half-written renewal (new cert, old key) is refused and the old pair stays in service.
    const second = await generateSelfSigned(['second.example']);
    writeFileSync(certFile, second.cert);
    await running.server.reloadCertificate();
    expect((await servedCertificate(running.server.port)).subjectAltName).toContain('DNS:first.example');

    writeFileSync(keyFile, second.key);
    await expect.poll(async () => (await servedCertificate(running!.server.port)).subjectAltName, { timeout: 5000 }).toContain('DNS:second.example');
    expect((await http({ ...running, ca: Buffer.from(second.cert) }, 'GET', '/healthz')).status).toBe(200);
  });

  it('offers only TLS 1.2 and newer', async () => {
    running = await startTestServer();
    const attempt = (maxVersion: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port: running!.server.port, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion }, () => {
          resolve(s.getProtocol() ?? 'none');
          s.end();
        });
        s.on('error', () => resolve('refused'));
      });
    expect(await attempt('TLSv1.1')).toBe('refused');
    expect(await attempt('TLSv1.2')).toBe('TLSv1.2');
  });
});
