// First message (issue #19): `npm run bench:first-message`. Debian's Chromium and the built
// server on this machine. Alice and Bob are contacts; Bob's Parley is open on his list. Alice
// opens their conversation ("Start chat") and sends at once, before the direct channel is up:
// from her click on Send to the text on Bob's screen (his conversation list). Baseline, in the
// same run: two bare pages and a bare WebSocket relay (this file), click on a button to the text
// appended on the other page. Both sides read one clock (performance.timeOrigin + now(), same
// machine). RUNS runs each, alternating, a fresh pair of users per run (so no channel from an
// earlier run is up). Targets: ≤ 150 ms median, ≤ 2× the bare relay.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { chromium, type Browser, type Page } from 'playwright-core';
import { befriend, signUp, startChat } from '../e2e/support/app.ts';
import { CHROMIUM, CHROMIUM_ARGS, newContext } from '../e2e/support/browser.ts';
import { startServerProcess } from '../e2e/support/server-process.ts';

const RUNS = Number(process.env.RUNS ?? 7);
const TARGET_MS = 150;
const TARGET_RATIO = 2;
const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const BARE_PAGE = `<!doctype html><meta charset="utf-8"><title>bare relay</title>
<input id="t" aria-label="Message"><button id="send">Send</button><div id="log"></div>
<script>
const q = new URLSearchParams(location.search);
const ws = new WebSocket('ws://' + location.host + '/?id=' + q.get('id'));
window.opened = new Promise((r) => (ws.onopen = r));
ws.onmessage = (e) => { const p = document.createElement('p'); p.textContent = JSON.parse(e.data).data.text; document.getElementById('log').append(p); };
document.getElementById('send').onclick = () => ws.send(JSON.stringify({ to: q.get('to'), data: { text: document.getElementById('t').value } }));
</script>`;

/** The least a relay between two pages does: serve the page, forward each frame to the named peer. */
async function bareRelay(): Promise<{ url: string; close(): void }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(BARE_PAGE));
  const wss = new WebSocketServer({ server });
  const byId = new Map<string, WebSocket>();
  wss.on('connection', (ws, req) => {
    const id = new URL(req.url ?? '/', 'http://relay').searchParams.get('id')!;
    byId.set(id, ws);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { to: string; data: unknown };
      byId.get(frame.to)?.send(JSON.stringify({ from: id, data: frame.data }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

// In-page code as strings: tsx would wrap inner functions in a helper the page does not have.
/** When `text` first appears in the page, on the shared clock. */
function appears(page: Page, text: string): Promise<number> {
  return page.evaluate(`new Promise((resolve) => {
    const t = ${JSON.stringify(text)};
    const observer = new MutationObserver(() => {
      if (!document.body.textContent.includes(t)) return;
      observer.disconnect();
      resolve(performance.timeOrigin + performance.now());
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  })`) as Promise<number>;
}

/** Arms the sender's page: the time of the next click on `selector`, and whether the chat then said "via server". */
async function armClick(page: Page, selector: string): Promise<void> {
  await page.evaluate(`(() => {
    delete window.__click;
    document.addEventListener('click', (e) => {
      if (!window.__click && e.target.closest(${JSON.stringify(selector)})) window.__click = { at: performance.timeOrigin + performance.now(), viaServer: document.body.textContent.includes('via server') };
    }, { capture: true });
  })()`);
}

const clickOf = (page: Page) => page.evaluate(() => (window as unknown as { __click: { at: number; viaServer: boolean } }).__click);

async function bareRound(browser: Browser, url: string): Promise<number> {
  const ctx = await browser.newContext();
  const a = await ctx.newPage();
  const b = await ctx.newPage();
  const [ida, idb] = [name('a'), name('b')];
  await a.goto(`${url}/?id=${ida}&to=${idb}`);
  await b.goto(`${url}/?id=${idb}&to=${ida}`);
  await a.evaluate(() => (window as unknown as { opened: Promise<unknown> }).opened);
  await b.evaluate(() => (window as unknown as { opened: Promise<unknown> }).opened);
  const text = `hello ${randomBytes(4).toString('hex')}`;
  await a.fill('#t', text);
  await armClick(a, '#send');
  const shown = appears(b, text);
  await a.click('#send');
  const ms = (await shown) - (await clickOf(a)).at;
  await ctx.close();
  return ms;
}

async function parleyRound(browser: Browser, url: string): Promise<{ ms: number; viaServer: boolean }> {
  const [alice, bob] = [name('alice'), name('bob')];
  const ca = await newContext(browser);
  const cb = await newContext(browser);
  const a = await ca.newPage();
  const b = await cb.newPage();
  await signUp(a, url, alice);
  await signUp(b, url, bob);
  await befriend(a, alice, b, bob);
  const text = `hello ${randomBytes(4).toString('hex')}`;
  await startChat(a, bob);
  const box = a.getByRole('textbox', { name: 'Message', exact: true });
  await box.fill(text);
  await armClick(a, 'button[type="submit"], button');
  const shown = appears(b, text);
  await a.getByRole('button', { name: 'Send', exact: true }).click();
  const click = await clickOf(a);
  const ms = (await shown) - click.at;
  await ca.close();
  await cb.close();
  return { ms, viaServer: click.viaServer };
}

async function main(): Promise<void> {
  if (spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  const server = await startServerProcess({ SIGNUP_LIMIT_PER_IP: '1000' });
  const relay = await bareRelay();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    await bareRound(browser, relay.url); // warm-up
    await parleyRound(browser, server.url);
    const bare: number[] = [];
    const parley: number[] = [];
    let viaServer = 0;
    for (let i = 0; i < RUNS; i++) {
      bare.push(await bareRound(browser, relay.url));
      const r = await parleyRound(browser, server.url);
      parley.push(r.ms);
      if (r.viaServer) viaServer++;
      console.error(`run ${i + 1}: bare ${bare.at(-1)!.toFixed(1)} ms, Parley ${r.ms.toFixed(1)} ms${r.viaServer ? ' (channel not up yet: "via server")' : ' (the channel was already up)'}`);
    }
    const b = median(bare);
    const p = median(parley);
    console.log(`\nFirst message in a conversation just opened, ${RUNS} runs (median; all runs)\n`);
    console.log('| measure | bare WebSocket relay | Parley | ratio | target |');
    console.log('| --- | --- | --- | --- | --- |');
    console.log(
      `| click on Send → text on the peer's screen | ${b.toFixed(1)} ms (${bare.map((x) => x.toFixed(0)).join(', ')}) | ${p.toFixed(1)} ms (${parley.map((x) => x.toFixed(0)).join(', ')}) | ${(p / b).toFixed(2)}× | ≤ ${TARGET_MS} ms: ${p <= TARGET_MS ? 'met' : 'missed'}; ≤ ${TARGET_RATIO}×: ${p / b <= TARGET_RATIO ? 'met' : 'missed'} |`,
    );
    console.log(`\nThe direct channel was not up yet at the click in ${viaServer} of ${RUNS} runs (the status line said "via server").`);
  } finally {
    await browser.close();
    relay.close();
    await server.kill();
  }
}

await main();
