// When Parley renews, and what it does when the CA says no (issue #5): the certificate in service
// stays, the failure is logged, and the order is retried with doubling delays. The CA here is a
// double that issues self-signed certificates or fails on demand, and the clock is moved instead
// of waited for; acme-pebble.test.ts does the same against a real ACME CA.
import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { renewalTime, retryDelay, RETRY_MAX_MS, RETRY_MIN_MS, type Issue } from '../../src/server/tls/acme.ts';
import { startHttpRedirect } from '../../src/server/http/http-redirect.ts';
import { generateSelfSigned } from '../../src/server/tls/self-signed.ts';
import { freePort } from '../support/ports.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const DOMAIN = 'chat.example.org';
const DAY = 86_400_000;

function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername: DOMAIN, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no certificate'));
    });
    socket.on('error', reject);
  });
}

function plainGet(port: number, pathname: string, method = 'GET'): Promise<{ status: number; body: string; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, method, headers: { host: DOMAIN } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A CA double: issues a self-signed certificate for the names, or fails while `failures` > 0. */
function fakeCa(clock = { offset: 0 }) {
  const ca = { orders: 0, failures: 0, issued: [] as string[] };
  const issue: Issue = async (domains) => {
    ca.orders++;
    if (ca.failures > 0) {
      ca.failures--;
      throw new Error('urn:ietf:params:acme:error:rateLimited: too many certificates already issued');
    }
    const pair = await generateSelfSigned(domains, new Date(Date.now() + clock.offset));
    ca.issued.push(new X509Certificate(pair.cert).serialNumber);
    return pair;
  };
  return { ca, issue };
}

let running: TestServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

describe('ACME renewal timing (issue #5)', () => {
  it('renews when a third of the validity is left: day 60 of 90, day 4 of 6', () => {
    expect(renewalTime({ notBefore: 0, notAfter: 90 * DAY })).toBe(60 * DAY);
    expect(renewalTime({ notBefore: 10 * DAY, notAfter: 16 * DAY })).toBe(14 * DAY);
  });

  it('retries a failed order after 5 minutes, doubling up to 6 hours', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n))).toEqual([5, 10, 20, 40].map((m) => m * 60_000));
    expect(retryDelay(7)).toBe(320 * 60_000);
    expect(retryDelay(8)).toBe(RETRY_MAX_MS);
    expect(retryDelay(1000)).toBe(RETRY_MAX_MS);
    expect(retryDelay(0)).toBe(RETRY_MIN_MS);
  });
});

describe('the http-01 answer on the plain-HTTP listener (issue #5)', () => {
  it('answers a pending token with its key authorization, and redirects everything else to HTTPS', async () => {
    const challenges = new Map([['tok_EN-123', 'tok_EN-123.thumbprint']]);
    const listener = await startHttpRedirect('127.0.0.1', await freePort(), { address: '127.0.0.1', family: 'IPv4', port: 443 }, challenges);
    try {
      const port = (listener.server.address() as { port: number }).port;
      expect(await plainGet(port, '/.well-known/acme-challenge/tok_EN-123')).toMatchObject({ status: 200, body: 'tok_EN-123.thumbprint' });
      expect(await plainGet(port, '/.well-known/acme-challenge/unknown')).toMatchObject({ status: 404 });
      expect(await plainGet(port, '/.well-known/acme-challenge/tok_EN-123', 'POST')).toMatchObject({ status: 301 });
      expect(await plainGet(port, '/.well-known/acme-challenge/../../api/x')).toMatchObject({ status: 301 });
      expect(await plainGet(port, '/login?x=1')).toMatchObject({ status: 301, location: `https://${DOMAIN}/login?x=1` });
    } finally {
      await listener.close();
    }
  });
});

describe('ACME renewal in a running server (issue #5)', () => {
  const start = async (issue: Issue, clock: { offset: number }, logs: string[]) =>
    startTestServer(
      { ACME_DOMAINS: DOMAIN, ACME_EMAIL: 'admin@example.org', HTTP_REDIRECT_PORT: String(await freePort()), LOG_LEVEL: 'info' },
      { logger: undefined, logStream: { write: (l) => void logs.push(l) }, acme: { issue, now: () => Date.now() + clock.offset, retryMinMs: 50, retryMaxMs: 1000 } },
    );
  const entries = (logs: string[], msg: string) => logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === msg);

  it('serves the self-signed certificate while the first order fails, and the issued one once a retry succeeds', async () => {
    const { ca, issue } = fakeCa();
    ca.failures = 2;
    const logs: string[] = [];
    running = await start(issue, { offset: 0 }, logs);
    await expect.poll(async () => (await servedCertificate(running!.server.port)).serialNumber === ca.issued[0], { timeout: 5000 }).toBe(true);
    expect(ca.orders).toBe(3);
    expect(entries(logs, 'ACME order failed; keeping the certificate in service and retrying').map((l) => [l.failures, l.retryInMs, l.inService])).toEqual([
      [1, 50, 'self-signed'],
      [2, 100, 'self-signed'],
    ]);
    expect(entries(logs, 'ACME certificate obtained')).toHaveLength(1);
  });

  it('keeps the old certificate when a renewal fails, and swaps in the renewed one without a restart', async () => {
    const clock = { offset: 0 };
    const { ca, issue } = fakeCa(clock);
    const logs: string[] = [];
    running = await start(issue, clock, logs);
    await expect.poll(async () => (await servedCertificate(running!.server.port)).serialNumber === ca.issued[0], { timeout: 5000 }).toBe(true);
    const first = ca.issued[0]!;

    // Not due: a check orders nothing.
    await running.server.reloadCertificate();
    expect(ca.orders).toBe(1);

    // 300 days on, past two thirds of the 365-day certificate, and the CA refuses twice.
    clock.offset = 300 * DAY;
    ca.failures = 2;
    await running.server.reloadCertificate();
    expect(ca.orders).toBe(2);
    expect((await servedCertificate(running.server.port)).serialNumber).toBe(first);
    const failed = entries(logs, 'ACME order failed; keeping the certificate in service and retrying');
    expect(failed[0]).toMatchObject({ failures: 1, retryInMs: 50, domains: [DOMAIN], error: expect.stringContaining('rateLimited') });
    expect(failed[0]!.inService).toMatch(/^\d{4}-/);

    await expect.poll(async () => (await servedCertificate(running!.server.port)).serialNumber === ca.issued[1], { timeout: 5000 }).toBe(true);
    expect(ca.orders).toBe(4);
    expect(entries(logs, 'ACME certificate renewed')).toHaveLength(1);
  });
});
