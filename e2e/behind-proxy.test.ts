// Issue #5's deployment, in the browser: Parley behind a real nginx that terminates TLS, with the
// configuration docs/deploy.md tells users to copy (TLS_OFFLOAD=1: plain HTTP from nginx on loopback).
// Two people sign up through nginx, call and chat; the WebSocket goes through nginx's upgrade;
// the same Parley port reached directly serves nothing but health; nginx hides /metrics.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { nginxSkipReason, startNginx, type Nginx } from './support/nginx.ts';
import { chatDirect, send, signUp, waitForMessage } from './support/app.ts';

if (nginxSkipReason) console.warn(`\n[behind-proxy e2e] SKIPPED, not passed: ${nginxSkipReason}\n`);

// scripts/test.sh installs nginx as root, as CI runs; there a skip would hide an untested deployment.
if (nginxSkipReason && process.env.CI === 'true') {
  describe('Parley behind nginx, in CI', () => {
    it('runs: CI must provide nginx', () => {
      expect.fail(`the behind-proxy e2e test cannot be skipped in CI: ${nginxSkipReason}`);
    });
  });
}

function plainGet(url: string): Promise<{ status: number; body: string; location: string | undefined }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, location: res.headers.location }));
    })
      .on('error', reject)
      .end();
  });
}

describe.skipIf(Boolean(nginxSkipReason))('Parley behind nginx terminating TLS (docs/deploy.md\'s configuration, TLS_OFFLOAD=1)', () => {
  let server: ServerProcess | undefined;
  let nginx: Nginx | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    server = await startServerProcess({ TLS_OFFLOAD: '1', TRUST_PROXY: '127.0.0.1', SIGNUP_LIMIT_PER_IP: '1000' });
    nginx = await startNginx([Number(new URL(server.url).port)]);
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await nginx?.close();
    await server?.kill('SIGKILL');
  });

  it('two people sign up, add each other and chat directly through nginx', async () => {
    const tag = randomBytes(4).toString('hex');
    const [alice, bob] = [`alice_${tag}`, `bob_${tag}`];
    const a = await recordedPage(await newContext(browser!));
    const b = await recordedPage(await newContext(browser!));
    await signUp(a.page, nginx!.url, alice);
    await signUp(b.page, nginx!.url, bob);
    await chatDirect(a.page, alice, b.page, bob);
    await send(a.page, 'hello through nginx');
    await waitForMessage(b.page, 'hello through nginx');
    await send(b.page, 'and back');
    await waitForMessage(a.page, 'and back');
    await a.page.context().close();
    await b.page.context().close();
  });

  it('serves nothing but health on its own port; nginx redirects plain HTTP and keeps /metrics to itself', async () => {
    expect(server!.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // Whoever starts it is told not to open that address.
    expect(server!.output()).toContain('Open it through its TLS proxy (TLS_OFFLOAD=1), not at this address.');
    const direct = await plainGet(`${server!.url}/`);
    expect(direct.status).toBe(403);
    expect(JSON.parse(direct.body)).toEqual({ error: { code: 'forbidden', message: 'Parley is served over HTTPS only: connect through its TLS proxy.' } });
    expect((await plainGet(`${server!.url}/healthz`)).status).toBe(200);
    // Through nginx, the page loads; /metrics is scraped from each process, not from outside.
    const page = await (await newContext(browser!)).newPage();
    expect((await page.goto(`${nginx!.url}/`))?.status()).toBe(200);
    expect((await page.goto(`${nginx!.url}/metrics`))?.status()).toBe(404);
    await page.context().close();
    const redirected = await plainGet(`${nginx!.plainUrl}/some/path?x=1`);
    expect(redirected.status).toBe(301);
    expect(redirected.location).toBe('https://chat.example.org/some/path?x=1');
  });
});
