// Issue #20: the code is pinned. The About panel shows the code hash the build printed; code
// the server alters without its manifest is refused with an alert (on a first visit the
// browser's Subresource Integrity refuses it, and the guard script says so; a pinned browser
// never runs it); a new release, consistent with its new manifest, is offered with its code
// hash and runs only after "Update"; a release whose files do not match its manifest is refused.
// The server serves a copy of the built client that each test alters on disk.
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

let browser: Browser;
let server: ServerProcess | undefined;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // A service worker is only registered for a page whose certificate the browser trusts.
  browser = await launchBrowser({ serviceWorkers: true });
});
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
  await server?.kill();
  server = undefined;
});
afterAll(async () => {
  await browser?.close();
});

const sri = (bytes: Buffer | string) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
const short = (hex: string) => hex.slice(0, 24).match(/.{4}/g)!.join(' ');

/** A copy of the built client, served by a server of its own. */
async function serveCopy(): Promise<{ dir: string; url: string }> {
  const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-pin-')), 'client');
  cpSync(path.resolve('dist/client'), dir, { recursive: true });
  server = await startServerProcess({ CLIENT_DIR: dir });
  return { dir, url: server.url };
}

function codeHash(dir: string): string {
  return createHash('sha384').update(readFileSync(path.join(dir, 'manifest.json'))).digest('hex');
}

function mainScript(dir: string): string {
  const name = readdirSync(path.join(dir, 'assets')).find((f) => /^index-.*\.js$/.test(f))!;
  return `/assets/${name}`;
}

/** Changes the main script as a compromised server would (it still runs). */
function alterScript(dir: string, note: string): string {
  const file = mainScript(dir);
  appendFileSync(path.join(dir, file), `\n;globalThis.__altered = ${JSON.stringify(note)};\n`);
  return file;
}

/** A new release made consistent: index.html's integrity and the manifest follow the files. */
function reseal(dir: string): void {
  const manifestPath = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { version: number; files: Record<string, string> };
  const script = mainScript(dir);
  const scriptSri = sri(readFileSync(path.join(dir, script)));
  const indexPath = path.join(dir, 'index.html');
  const html = readFileSync(indexPath, 'utf8').replace(new RegExp(`(src="${script}" integrity=")[^"]+`), `$1${scriptSri}`);
  writeFileSync(indexPath, html);
  manifest.files[script] = scriptSri;
  manifest.files['/index.html'] = sri(html);
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
}

async function open(url: string): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  contexts.push(context);
  const page = await context.newPage();
  await page.goto(url);
  return page;
}

/** The code hash the About panel shows, in its short form. */
async function aboutHash(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'About Parley' }).click();
  const dialog = page.getByRole('dialog', { name: 'About Parley' });
  const text = (await dialog.getByLabel('Code hash').textContent()) ?? '';
  await dialog.getByRole('button', { name: 'Close' }).click();
  return text;
}

/** Waits until this browser's service worker has pinned the code (and controls the page). */
async function pinned(page: Page): Promise<void> {
  await page.evaluate('navigator.serviceWorker.ready.then(() => undefined)');
  await page.waitForFunction('navigator.serviceWorker.controller !== null', undefined, { timeout: 15_000 });
  await page.waitForFunction(
    `caches.open('parley-pin').then((c) => c.match('/pinned')).then((r) => r !== undefined)`,
    undefined,
    { timeout: 15_000 },
  );
}

describe('pinned, verifiable code (issue #20)', () => {
  it('shows the build\'s code hash; code altered without its manifest is refused, and a pinned browser never runs it', async () => {
    const { dir, url } = await serveCopy();
    const built = codeHash(dir);
    const alice = await open(url);
    await pinned(alice);
    await alice.reload();
    expect(await aboutHash(alice)).toBe(short(built));

    const altered = alterScript(dir, 'first');
    // A first visit: the browser refuses the script (its integrity is the manifest's), and the
    // guard says so instead of leaving a blank page.
    const bob = await open(url);
    const refusal = bob.getByRole('alert');
    await expect.poll(() => refusal.textContent(), { timeout: 15_000 }).toContain('does not match its release manifest');
    expect(await refusal.textContent()).toContain(altered);
    expect(await bob.evaluate('globalThis.__altered ?? null')).toBeNull();
    expect(await bob.getByRole('button', { name: 'About Parley' }).count()).toBe(0); // none of the app ran

    // Alice's browser keeps running the pinned code, untouched, and offers nothing.
    await alice.reload();
    await alice.getByRole('button', { name: 'About Parley' }).waitFor();
    expect(await alice.evaluate('globalThis.__altered ?? null')).toBeNull();
    expect(await aboutHash(alice)).toBe(short(built));
    expect(await alice.getByRole('region', { name: 'New version' }).count()).toBe(0);
  });

  it('offers a new release with its code hash, runs it only after "Update", and refuses one whose files do not match its manifest', async () => {
    const { dir, url } = await serveCopy();
    const first = codeHash(dir);
    const page = await open(url);
    await pinned(page);

    alterScript(dir, 'second release');
    reseal(dir);
    const second = codeHash(dir);
    expect(second).not.toBe(first);
    await page.reload();
    const offer = page.getByRole('region', { name: 'New version' });
    await offer.getByText(`A new version of Parley is available (code hash ${short(second)}).`).waitFor({ timeout: 20_000 });
    expect(await page.evaluate('globalThis.__altered ?? null')).toBeNull(); // still the pinned code

    await offer.getByRole('button', { name: 'Not now' }).click();
    await expect.poll(() => offer.count()).toBe(0);
    expect(await aboutHash(page)).toBe(short(first));

    await page.reload(); // asked again on the next load
    await offer.getByRole('button', { name: 'Update' }).click({ timeout: 20_000 });
    await page.waitForFunction('globalThis.__altered === "second release"', undefined, { timeout: 20_000 });
    expect(await aboutHash(page)).toBe(short(second));

    // A third "release": the manifest changes, but the script is not the one it names.
    const script = mainScript(dir);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { files: Record<string, string> };
    manifest.files['/favicon.svg'] = sri('another icon');
    writeFileSync(path.join(dir, 'favicon.svg'), 'another icon');
    appendFileSync(path.join(dir, script), '\n;globalThis.__altered = "third";\n');
    writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await page.reload();
    const refusal = page.getByRole('alert').filter({ hasText: 'does not match its release manifest' });
    await refusal.waitFor({ timeout: 20_000 });
    expect(await refusal.textContent()).toContain(script);
    expect(await page.getByRole('region', { name: 'New version' }).count()).toBe(0);
    expect(await page.evaluate('globalThis.__altered')).toBe('second release');
    expect(await aboutHash(page)).toBe(short(second));
  });

  it('pins nothing behind a certificate the browser was only told to accept, and About says so', async () => {
    // As a person clicking through the warning for the self-signed certificate: the page loads,
    // but the browser registers no service worker for it.
    const { url } = await serveCopy();
    const untrusting = await launchBrowser();
    try {
      const page = await (await untrusting.newContext({ ignoreHTTPSErrors: true })).newPage();
      await page.goto(url);
      const refusal = await page.evaluate(`navigator.serviceWorker.register('/sw.js').then(() => 'registered', (e) => e.name + ': ' + e.message)`);
      // Chromium names the certificate, or (when a registration is already under way) "an
      // unknown error occurred when fetching the script".
      expect(refusal).toMatch(/^SecurityError: /);
      await page.getByRole('button', { name: 'About Parley' }).click();
      await page.getByRole('dialog', { name: 'About Parley' }).getByText(/This browser refused to pin this version: it (does not|may not) trust this server's certificate/).waitFor();
      // The app's own registration failed too: no worker controls the page, nothing is pinned.
      expect(await page.evaluate('navigator.serviceWorker.controller === null')).toBe(true);
      expect(await page.evaluate(`caches.open('parley-pin').then((c) => c.match('/pinned')).then((r) => r === undefined)`)).toBe(true);
    } finally {
      await untrusting.close();
    }
  });
});
