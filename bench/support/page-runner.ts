// Builds a benchmark page with Vite, serves it on 127.0.0.1 (a secure context) and runs it in
// Debian's Chromium until it publishes window.__benchResult.
import { createServer } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/**
 * `onDisk`: the page runs in a browser profile on disk, as a user's does (an off-the-record
 * profile keeps the origin-private file system in memory, behind another implementation).
 */
export async function runBenchPage<T>(root: string, options: { browser?: Browser; query?: string; onDisk?: boolean } = {}): Promise<T> {
  const browser = options.browser;
  const outDir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
  await build({ root: path.resolve(root), logLevel: 'warn', build: { outDir, emptyOutDir: true, target: 'es2022', minify: !process.env.BENCH_CPU_PROF } });
  const server = createServer(async (req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    const file = path.join(outDir, pathname === '/' ? 'index.html' : path.normalize(pathname).replace(/^(\.\.[/\\])+/, ''));
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const own = !browser;
  const profile = options.onDisk ? mkdtempSync(path.join(os.tmpdir(), 'parley-bench-profile-')) : undefined;
  const persistent = profile ? await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: ARGS, headless: true }) : undefined;
  const b = persistent ? undefined : (browser ?? (await chromium.launch({ executablePath: CHROMIUM, args: ARGS })));
  try {
    const page = persistent ? await persistent.newPage() : await b!.newPage();
    // BENCH_CPU_PROF=file.cpuprofile: the page's CPU profile over the whole run, for DevTools.
    const profileTo = process.env.BENCH_CPU_PROF;
    const cdp = profileTo ? await page.context().newCDPSession(page) : undefined;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
      await cdp.send('Profiler.start');
    }
    await page.goto(`http://127.0.0.1:${port}/${options.query ? `?${options.query}` : ''}`);
    await page.waitForFunction(() => (window as unknown as { __benchResult?: unknown }).__benchResult !== undefined, undefined, { timeout: 900_000 });
    if (cdp && profileTo) {
      const { profile } = await cdp.send('Profiler.stop');
      await writeFile(profileTo, JSON.stringify(profile));
    }
    const result = (await page.evaluate(() => (window as unknown as { __benchResult: unknown }).__benchResult)) as T & { error?: string };
    if (result.error) throw new Error(result.error);
    await page.close();
    return result;
  } finally {
    if (persistent) await persistent.close();
    else if (own) await b!.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    server.close();
  }
}
