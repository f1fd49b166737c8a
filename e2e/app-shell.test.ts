// Issue #8: Parley is installable (manifest, icons) and its service worker caches the app shell
// only, so the page opens without a network and no message data is ever cached.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { signUp } from './support/app.ts';

let server: ServerProcess;
let browser: Browser;

beforeAll(async () => {
  server = await startServerProcess();
  // A service worker is only registered for a page whose certificate the browser trusts; this
  // browser is told to trust the test server's self-signed one.
  browser = await launchBrowser({ serviceWorkers: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

describe('installable app shell (issue #8)', () => {
  it('has a manifest with icons, caches the shell, never the API, and opens offline', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(server.url);
    const manifest = await page.evaluate(async () => (await fetch('/manifest.webmanifest')).json());
    expect(manifest).toMatchObject({ name: 'Parley', display: 'standalone', start_url: '/' });
    expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    for (const icon of manifest.icons) expect((await page.request.get(new URL(icon.src, server.url).href)).status()).toBe(200);

    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await page.reload(); // now controlled: the shell's bundles pass through the worker
    await signUp(page, server.url, `shell_${Date.now().toString(36)}`);
    const cached = await page.evaluate(async () => {
      const out: string[] = [];
      for (const name of await caches.keys()) for (const req of await (await caches.open(name)).keys()) out.push(new URL(req.url).pathname);
      return out;
    });
    expect(cached).toContain('/index.html');
    expect(cached.some((p) => p.startsWith('/assets/') && p.endsWith('.js'))).toBe(true);
    expect(cached.filter((p) => p.startsWith('/api/') || p === '/ws')).toEqual([]);

    await context.setOffline(true);
    await page.reload();
    await page.locator('.brand-name').first().waitFor();
    expect(await page.title()).toMatch(/Parley/);
    await context.close();
  });
});
