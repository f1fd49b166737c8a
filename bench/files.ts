// File transfer cost (issue #8): `npm run bench:files`.
//  1. In one Chromium page and run: a bare DataChannel transfer against Parley's encrypted
//     chunks (with and without writing to disk), 64 MiB each, median of 3 alternating rounds.
//  2. The real app: Alice sends a 1 GiB file to Bob over a call; Bob's page's JavaScript heap is
//     sampled every 250 ms through the DevTools protocol, and the end-to-end rate is timed.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { ARGS, CHROMIUM, runBenchPage } from './support/page-runner.ts';
import { startServerProcess } from '../e2e/support/server-process.ts';
import { chatDirect, signUp } from '../e2e/support/app.ts';
import { spawnSync } from 'node:child_process';

spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
console.log('1/2 one page: bare against encrypted chunks…');
const r = await runBenchPage<{ megabytes: number; rounds: number; bare: number; encrypted: number; disk: number }>('bench/files', { query: 'mb=64&rounds=3' });
const mb = (n: number) => n.toFixed(1);
console.log(`\n${r.megabytes} MiB per round, median of ${r.rounds} rounds, both peers in one Chromium page\n`);
console.log('| transfer | MiB/s | vs bare DataChannel |');
console.log('| --- | --- | --- |');
console.log(`| bare DataChannel, 64 KiB messages | ${mb(r.bare)} | 1.00× |`);
console.log(`| Parley chunks: AES-256-GCM + SHA-256 per chunk | ${mb(r.encrypted)} | ${(r.encrypted / r.bare).toFixed(2)}× |`);
console.log(`| Parley chunks, receiver writing to disk (OPFS) | ${mb(r.disk)} | ${(r.disk / r.bare).toFixed(2)}× |\n`);
console.log('2/2 the app: 1 GiB from Alice to Bob…');

// 1 GiB of random bytes on disk, written in 16 MiB pieces (never whole in this process either).
const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-1g-'));
const file = path.join(dir, 'one-gigabyte.bin');
const fd = openSync(file, 'w');
for (let i = 0; i < 64; i++) writeSync(fd, randomBytes(16 * 1024 * 1024));
closeSync(fd);

// Each peer in a browser profile on disk, as a real user has: an off-the-record context keeps
// OPFS in memory under a small quota, which is neither what a user has nor able to hold 1 GiB.
const server = await startServerProcess({ LOG_LEVEL: 'warn' });
const profiles = [mkdtempSync(path.join(os.tmpdir(), 'parley-bench-alice-')), mkdtempSync(path.join(os.tmpdir(), 'parley-bench-bob-'))];
const open = (dir: string) => chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: ARGS, headless: true, ignoreHTTPSErrors: true });
const contexts = await Promise.all(profiles.map(open));
let peakHeap = 0;
let seconds = 0;
try {
  const [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
  await signUp(alice!, server.url, 'alice');
  await signUp(bob!, server.url, 'bob');
  await chatDirect(alice!, 'alice', bob!, 'bob');
  const cdp = await bob!.context().newCDPSession(bob!);
  await cdp.send('Performance.enable');
  const sample = async () => {
    const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
    peakHeap = Math.max(peakHeap, metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0);
  };
  const timer = setInterval(() => void sample().catch(() => undefined), 250);
  // Progress every 15 s, so a stalled transfer shows as one rather than as silence.
  const bar = bob!.getByRole('progressbar', { name: 'Transfer of one-gigabyte.bin' });
  const progress = setInterval(() => {
    void bar
      .getAttribute('value', { timeout: 1000 })
      .then((v) => console.log(`   Bob has ${mb(Number(v) / 1024 / 1024)} MiB, heap peak so far ${mb(peakHeap / 1024 / 1024)} MiB`))
      .catch(() => undefined);
  }, 15_000);
  const t0 = performance.now();
  await alice!.getByLabel('Attach file').setInputFiles(file);
  await bob!.getByRole('button', { name: 'Save one-gigabyte.bin' }).waitFor({ timeout: 1_800_000 });
  seconds = (performance.now() - t0) / 1000;
  clearInterval(timer);
  clearInterval(progress);
  await sample();
} finally {
  await Promise.all(contexts.map((c) => c.close()));
  await server.kill();
  for (const d of [dir, ...profiles]) rmSync(d, { recursive: true, force: true });
}

console.log(`\nThe app, 1 GiB from Alice's page to Bob's: ${(1024 / seconds).toFixed(1)} MiB/s end to end (${seconds.toFixed(0)} s); Bob's JavaScript heap peaked at ${mb(peakHeap / 1024 / 1024)} MiB.`);
