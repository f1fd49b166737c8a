// Ratchet cost in the browser (issue #3): `npm run bench:ratchet`.
// Builds bench/ratchet with Vite, serves it on 127.0.0.1 (a secure context, so Web Crypto is
// available), runs it in Debian's Chromium and prints the figures with their ratios to bare
// AES-GCM measured in the same page and run.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'vite';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const outDir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-'));
await build({ root: path.resolve('bench/ratchet'), logLevel: 'warn', build: { outDir, emptyOutDir: true, target: 'es2022' } });

const server = createServer(async (req, res) => {
  const file = path.join(outDir, req.url === '/' ? 'index.html' : path.normalize(req.url ?? '').replace(/^(\.\.[/\\])+/, ''));
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

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => (window as unknown as { __benchResult?: unknown }).__benchResult !== undefined, undefined, { timeout: 600_000 });
  const r = (await page.evaluate(() => (window as unknown as { __benchResult: Record<string, number | string> }).__benchResult)) as Record<string, number>;
  if ('error' in r) throw new Error(String(r.error));
  const f = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(`Chromium: ${String(r.userAgent).match(/Chrome\/[\d.]+/)?.[0]}; ${r.messagesPerRound} messages of 100 bytes per round, median of ${r.rounds} rounds\n`);
  console.log('| measure | result | vs bare AES-GCM |');
  console.log('| --- | --- | --- |');
  console.log(`| bare AES-256-GCM encrypt+decrypt | ${f(r.bareAesGcmPerSecond!)} msg/s | 1.00× |`);
  console.log(`| ratchet, one speaker (KDF_CK per message) | ${f(r.ratchetOneWayPerSecond!)} msg/s | ${(r.ratchetOneWayPerSecond! / r.bareAesGcmPerSecond!).toFixed(2)}× |`);
  console.log(`| ratchet, speakers alternate (DH ratchet per message) | ${f(r.ratchetAlternatingPerSecond!)} msg/s | ${(r.ratchetAlternatingPerSecond! / r.bareAesGcmPerSecond!).toFixed(2)}× |`);
  console.log(`| session start, initiator (bundle fetch excluded) | ${r.sessionStartInitiatorMs!.toFixed(2)} ms | |`);
  console.log(`| session start, responder (first message) | ${r.sessionStartResponderMs!.toFixed(2)} ms | |`);
} finally {
  await browser.close();
  server.close();
}
