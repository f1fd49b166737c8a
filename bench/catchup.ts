// Catch-up (issue #19): `npm run bench:catchup`. Debian's Chromium and the built server on this
// machine. Bob (a browser) has SENDERS contacts; he closes his tab, each contact sends him
// PER_SENDER texts through the server's queue (senders in Node with the real protocol code,
// e2e/support/node-sender.ts), and he opens Parley again. Measured in his page: from the socket's
// "Connected" to the conversation list showing every conversation with all its messages unread
// (every message decrypted and stored: the list is read from the store), every long task
// (PerformanceObserver 'longtask') in that time, and the progress line's texts. RUNS runs, each
// with fresh messages. Targets: ≤ 5 s for 10,000 messages; no long task over 200 ms; progress
// ("Catching up: 4,210 of 10,000") when it takes longer than a second.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { addContact, signUp, waitConnected } from '../e2e/support/app.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/support/browser.ts';
import { startServerProcess } from '../e2e/support/server-process.ts';
import { nodeSender, type NodeSender } from '../e2e/support/node-sender.ts';
import { watchCatchUp, type CatchUpWatch } from '../e2e/support/catch-up-watch.ts';

const SENDERS = Number(process.env.SENDERS ?? 10);
const PER_SENDER = Number(process.env.PER_SENDER ?? 1000);
const RUNS = Number(process.env.RUNS ?? 3);
const TARGET_MS = 5000;
const LONG_TASK_LIMIT_MS = 200;

const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function fill(senders: NodeSender[], bob: string, run: number): Promise<void> {
  await Promise.all(senders.map((s) => s.sendTexts(bob, Array.from({ length: PER_SENDER }, (_, i) => `${s.name} run ${run} message ${i}`))));
}

async function main(): Promise<void> {
  if (spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  const server = await startServerProcess({ SIGNUP_LIMIT_PER_IP: '1000' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  let context: BrowserContext | undefined;
  try {
    const bob = name('bob');
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    let page = await context.newPage();
    await signUp(page, server.url, bob);
    const senders: NodeSender[] = [];
    for (let i = 0; i < SENDERS; i++) senders.push(await nodeSender(server.url, name(`s${i}`)));
    for (const s of senders) await addContact(page, s.name);
    const results: Array<{ ms: number; longest: number; over: number; progress: string[] }> = [];
    for (let run = 0; run < RUNS; run++) {
      await page.close();
      const t0 = Date.now();
      await fill(senders, bob, run);
      console.error(`run ${run + 1}: ${SENDERS * PER_SENDER} messages queued in ${Date.now() - t0} ms`);
      page = await context.newPage();
      await watchCatchUp(page, senders.map((s) => ({ name: s.name, unread: PER_SENDER * (run + 1) })));
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') console.error(`[bob's page] ${m.text()}`);
      });
      // BENCH_CPU_PROF=file.cpuprofile: Bob's page's CPU profile over the last run, for DevTools.
      const cdp = process.env.BENCH_CPU_PROF ? await context.newCDPSession(page) : undefined;
      if (cdp) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
        await cdp.send('Profiler.start');
      }
      await page.goto(server.url);
      await waitConnected(page);
      try {
        await page.waitForFunction(() => (window as unknown as { __catchUp: CatchUpWatch }).__catchUp.doneAt !== undefined, undefined, { timeout: 120_000, polling: 200 });
      } catch (e) {
        console.error(`not finished; the list reads: ${await page.getByRole('list', { name: 'Conversations' }).textContent()}`);
        console.error(`watch: ${JSON.stringify(await page.evaluate(() => (window as unknown as { __catchUp: CatchUpWatch }).__catchUp))}`);
        throw e;
      }
      await page.waitForTimeout(300); // the last long task, if any, is reported after it ends
      if (cdp) writeFileSync(process.env.BENCH_CPU_PROF!, JSON.stringify((await cdp.send('Profiler.stop')).profile));
      const w = await page.evaluate(() => (window as unknown as { __catchUp: CatchUpWatch }).__catchUp);
      const during = w.longTasks.filter((t) => t.start + t.duration >= w.connectedAt! && t.start <= w.doneAt!);
      const r = { ms: w.doneAt! - w.connectedAt!, longest: Math.max(0, ...during.map((t) => t.duration)), over: during.filter((t) => t.duration > LONG_TASK_LIMIT_MS).length, progress: w.progress };
      results.push(r);
      console.error(`run ${run + 1}: ${r.ms.toFixed(0)} ms; longest task ${r.longest.toFixed(0)} ms; progress ${r.progress.length ? `"${r.progress[0]}" … "${r.progress.at(-1)}" (${r.progress.length} updates)` : 'not shown'}`);
    }
    const ms = median(results.map((r) => r.ms));
    const longest = Math.max(...results.map((r) => r.longest));
    const over = results.reduce((n, r) => n + r.over, 0);
    const total = SENDERS * PER_SENDER;
    const shownWhenSlow = results.filter((r) => r.ms > 1000).every((r) => r.progress.some((p) => /^Catching up: [\d,]+ of [\d,]+$/.test(p)));
    console.log(`\n${total.toLocaleString('en-US')} queued messages from ${SENDERS} contacts, ${RUNS} runs (median)\n`);
    console.log('| measure | result | target |');
    console.log('| --- | --- | --- |');
    console.log(`| "Connected" → every message stored and the conversation list up to date | ${ms.toFixed(0)} ms (${results.map((r) => r.ms.toFixed(0)).join(', ')}) | ≤ ${TARGET_MS} ms: ${ms <= TARGET_MS ? 'met' : 'missed'} |`);
    console.log(`| longest task in that time | ${longest.toFixed(0)} ms (tasks over ${LONG_TASK_LIMIT_MS} ms: ${over}) | none over ${LONG_TASK_LIMIT_MS} ms: ${over === 0 ? 'met' : 'missed'} |`);
    console.log(`| progress shown | ${results.map((r) => (r.progress.length ? `"${r.progress[0]}" … "${r.progress.at(-1)}"` : 'not shown')).join('; ')} | when longer than a second: ${shownWhenSlow ? 'met' : 'missed'} |`);
    for (const s of senders) s.close();
  } finally {
    await context?.close();
    await browser.close();
    await server.kill();
  }
}

await main();
