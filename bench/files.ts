// File transfer speed (issues #8 and #19): `npm run bench:files`.
//  1. One Chromium page (a profile on disk), two RTCPeerConnections joined directly: a bare
//     DataChannel against Parley's chunk path as the app runs it (file workers on both sides:
//     read, SHA-256 and AES-256-GCM on one, open, SHA-256 and the OPFS write on the other),
//     64 MiB each, median of 3 alternating rounds. Target ≥ 0.9×.
//  2. Two browsers (Alice's and Bob's profiles on disk): a bare DataChannel between them, then
//     the real app sending the same size (1 GiB; BENCH_FILE_MB for a quick look) from Alice to
//     Bob. Target ≥ 0.8× the bare rate, Bob's page heap under 32 MiB (sampled twice a second).
//     Each run also reports the cores busy and Chromium's CPU seconds by process.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { ARGS, CHROMIUM, runBenchPage } from './support/page-runner.ts';
import { bareChannelRate } from './support/bare-channel.ts';
import { cpuBusy } from './support/cpu-busy.ts';
import { chromiumCpu, cpuSpent, describeCpu, largestRendererRss } from './support/chromium-processes.ts';
import { startServerProcess } from '../e2e/support/server-process.ts';
import { chatDirect, signUp } from '../e2e/support/app.ts';

spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
const mb = (n: number) => n.toFixed(1);
const verdict = (ok: boolean) => (ok ? 'met' : 'missed');

console.log("1/2 one page: bare DataChannel against Parley's chunk path…");
const r = await runBenchPage<{ megabytes: number; rounds: number; bare: number; parley: number }>('bench/files', { query: 'mb=64&rounds=3', onDisk: true });
const chunkRatio = r.parley / r.bare;
console.log(`\n${r.megabytes} MiB per round, median of ${r.rounds} rounds, both peers in one Chromium page (a profile on disk)\n`);
console.log('| transfer | MiB/s | vs bare DataChannel | target |');
console.log('| --- | --- | --- | --- |');
console.log(`| bare DataChannel, 64 KiB messages | ${mb(r.bare)} | 1.00× | |`);
console.log(`| Parley's chunk path: read, SHA-256, AES-256-GCM in a worker → open, SHA-256, OPFS write in a worker | ${mb(r.parley)} | ${chunkRatio.toFixed(2)}× | ≥ 0.9×: ${verdict(chunkRatio >= 0.9)} |\n`);

const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 1024);
const fileName = `bench-${FILE_MB}-mib.bin`;
console.log(`2/2 two browsers: ${FILE_MB} MiB from Alice to Bob, bare DataChannel and then the app…`);

// The file's random bytes on disk, written in 16 MiB pieces (never whole in this process either).
const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-file-'));
const file = path.join(dir, fileName);
const fd = openSync(file, 'w');
for (let i = 0; i < FILE_MB / 16; i++) writeSync(fd, randomBytes(16 * 1024 * 1024));
closeSync(fd);

// Each peer in a browser profile on disk, as a real user has: an off-the-record context keeps
// OPFS in memory under a small quota, which is neither what a user has nor able to hold 1 GiB.
const server = await startServerProcess({ LOG_LEVEL: 'warn' });
const profiles = [mkdtempSync(path.join(os.tmpdir(), 'parley-bench-alice-')), mkdtempSync(path.join(os.tmpdir(), 'parley-bench-bob-'))];
const open = (dir: string) => chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: ARGS, headless: true, ignoreHTTPSErrors: true });
const contexts = await Promise.all(profiles.map(open));
const runs = { bare: { rate: 0, cores: 0, cpu: '' }, app: { rate: 0, cores: 0, cpu: '' } };
let peakHeap = 0;
let peakRss = 0;
try {
  let before = chromiumCpu();
  let busy = cpuBusy();
  runs.bare.rate = await bareChannelRate(contexts[0]!, contexts[1]!, FILE_MB, () => {
    runs.bare.cores = busy();
    runs.bare.cpu = describeCpu(cpuSpent(before, chromiumCpu()));
  });
  console.log(`   bare DataChannel: ${mb(runs.bare.rate)} MiB/s`);

  const [alice, bob] = await Promise.all(contexts.map((c) => c.newPage()));
  await signUp(alice!, server.url, 'alice');
  await signUp(bob!, server.url, 'bob');
  await chatDirect(alice!, 'alice', bob!, 'bob');
  // Bob's page heap and his renderer's resident memory, twice a second: cheap readings, so the
  // sampling does not slow what it measures. (The file worker's heap is inside the renderer's.)
  const cdp = await bob!.context().newCDPSession(bob!);
  const sample = async () => {
    const { usedSize } = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    peakHeap = Math.max(peakHeap, usedSize);
    peakRss = Math.max(peakRss, largestRendererRss(profiles[1]!));
  };
  const timer = setInterval(() => void sample().catch(() => undefined), 500);
  // Progress every 15 s, so a stalled transfer shows as one rather than as silence.
  const bar = bob!.getByRole('progressbar', { name: `Transfer of ${fileName}` });
  const progress = setInterval(() => {
    void bar
      .getAttribute('value', { timeout: 1000 })
      .then((v) => console.log(`   Bob has ${mb(Number(v) / 1024 / 1024)} MiB; page heap peak so far ${mb(peakHeap / 1024 / 1024)} MiB`))
      .catch(() => undefined);
  }, 15_000);
  before = chromiumCpu();
  busy = cpuBusy();
  const t0 = performance.now();
  await alice!.getByLabel('Attach file').setInputFiles(file);
  // Polled once a second: a locator's waitFor polls the page at every frame, which costs the
  // receiving page more than the transfer's own bookkeeping does.
  const saved = bob!.getByRole('button', { name: `Save ${fileName}` });
  while ((await saved.count()) === 0) {
    if (performance.now() - t0 > 1_800_000) throw new Error('the file did not arrive in 30 minutes');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  runs.app.rate = FILE_MB / ((performance.now() - t0) / 1000);
  runs.app.cores = busy();
  runs.app.cpu = describeCpu(cpuSpent(before, chromiumCpu()));
  clearInterval(timer);
  clearInterval(progress);
  await sample();
} finally {
  await Promise.all(contexts.map((c) => c.close()));
  await server.kill();
  for (const d of [dir, ...profiles]) rmSync(d, { recursive: true, force: true });
}

const ratio = runs.app.rate / runs.bare.rate;
console.log(`\n${FILE_MB} MiB from Alice's browser to Bob's (each a browser profile on disk)\n`);
console.log('| transfer | MiB/s | cores busy | Chromium CPU by process | vs bare DataChannel | target |');
console.log('| --- | --- | --- | --- | --- | --- |');
console.log(`| bare DataChannel between the two browsers | ${mb(runs.bare.rate)} | ${runs.bare.cores.toFixed(2)} | ${runs.bare.cpu} | 1.00× | |`);
console.log(`| Parley, end to end (pick the file → "Save" offered, hash checked) | ${mb(runs.app.rate)} | ${runs.app.cores.toFixed(2)} | ${runs.app.cpu} | ${ratio.toFixed(2)}× | ≥ 0.8×: ${verdict(ratio >= 0.8)} |`);
console.log(`\nBob's page heap peaked at ${mb(peakHeap / 1024 / 1024)} MiB (target < 32 MiB: ${verdict(peakHeap < 32 * 1024 * 1024)}); his renderer process's resident memory at ${mb(peakRss)} MiB.`);
console.log(`Chunk path alone, one page: ${chunkRatio.toFixed(2)}× bare (target ≥ 0.9×: ${verdict(chunkRatio >= 0.9)}).`);
