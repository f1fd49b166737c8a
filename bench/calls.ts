// Calls (issue #16): `npm run bench:calls`. Debian's Chromium with its fake camera and
// microphone, everything on this machine, in one run:
//  1. Setup, CALLS voice calls after a warm-up: from the click on "Voice call" to the callee's
//     ring (the dialog on screen), and from the click on "Accept" to the first decoded audio on
//     each side (inbound-rtp samples that are not concealment, polled every 5 ms in the page).
//     Baseline: two bare pages that do only what any call must (getUserMedia, one
//     RTCPeerConnection each, offer, answer and trickled ICE through a bare WebSocket relay),
//     timed the same way from the answering side's "accept". Target: Accept → audio ≤ 2× bare.
//  2. CPU of a 640×480 video call, SECONDS seconds, with and without frame encryption
//     (RTCRtpScriptTransform taken away from both pages, so the app falls back to DTLS-SRTP
//     alone), ROUNDS rounds alternating which goes first; each person's browser is its own
//     process tree, and CPU is user + system time of both trees from /proc. Video is capped at
//     600 kbit/s in both, so the encoder does the same work in each. The ratio is the
//     median of each round's own ratio (its two calls ran back to back, under the same
//     conditions; the machine's load drifts more between rounds). Target: ≤ 1.15×.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { WebSocketServer, type WebSocket } from 'ws';
import { accept, befriend, call, logIn, signUp, startChat, waitConnected } from '../e2e/support/app.ts';
import { CHROMIUM, CHROMIUM_ARGS, FAKE_MEDIA_ARGS, tapPeerConnections } from '../e2e/support/browser.ts';
import { waitFigures } from '../e2e/support/call-stats.ts';
import { startServerProcess, type ServerProcess } from '../e2e/support/server-process.ts';

const CALLS = Number(process.env.CALLS ?? 7);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const SECONDS = Number(process.env.SECONDS ?? 20);
const CLOCK_TICK = 100;
/** The video rate both variants send at (bits/s), well within what loopback carries. */
const VIDEO_BITRATE = 600_000;

/** In the page: caps the call's video sender at `bps` (RTCRtpEncodingParameters.maxBitrate). */
const capVideo = async (bps: number): Promise<void> => {
  const pcs = (window as unknown as { __parleyPeerConnections: RTCPeerConnection[] }).__parleyPeerConnections;
  const pc = [...pcs].reverse().find((x) => x.getTransceivers().length > 0)!;
  const sender = pc.getSenders().find((x) => x.track?.kind === 'video')!;
  const params = sender.getParameters();
  for (const e of params.encodings) e.maxBitrate = bps;
  await sender.setParameters(params);
}; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

/** Timing hooks in every page: clicks on the call buttons, the ring, and the first decoded audio. */
const TIMING = `
(() => {
  const now = () => performance.timeOrigin + performance.now();
  const t = { clicks: {}, ring: 0 };
  Object.defineProperty(window, '__timing', { value: t });
  document.addEventListener('click', (e) => {
    const b = e.target && e.target.closest ? e.target.closest('button') : null;
    if (b) t.clicks[b.textContent.trim()] = now();
  }, true);
  new MutationObserver(() => {
    if (!t.ring && document.querySelector('[role=alertdialog]')) t.ring = now();
  }).observe(document, { subtree: true, childList: true });
  // Resolves with the time the newest peer connection with media, made after \`since\`, first
  // decoded audio that was not concealment.
  Object.defineProperty(window, '__firstAudio', { value: (since) => new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = async () => {
      const pcs = window.__parleyPeerConnections || window.__barePcs || [];
      const pc = [...pcs].reverse().find((p) => p.getTransceivers().length > 0 && p.__madeAt >= since);
      if (pc) {
        const stats = await pc.getStats();
        let decoded = 0;
        stats.forEach((s) => { if (s.type === 'inbound-rtp' && s.kind === 'audio') decoded += (s.totalSamplesReceived || 0) - (s.concealedSamples || 0); });
        if (decoded > 0) return resolve(now());
      }
      if (Date.now() - started > 30000) return reject(new Error('no audio within 30 s'));
      setTimeout(tick, 5);
    };
    tick();
  }) });
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = new Proxy(Native, { construct(target, args, nt) { const pc = Reflect.construct(target, args, nt); pc.__madeAt = now(); return pc; } });
})();
`;

/** The bare baseline's page: offers (a) or answers (b) through the relay, nothing else. */
const BARE_PAGE = `<!doctype html><meta charset="utf-8"><title>bare</title><script>
const now = () => performance.timeOrigin + performance.now();
window.__barePcs = [];
const role = new URLSearchParams(location.search).get('role');
const ws = new WebSocket('ws://' + location.host + '/relay?id=' + role);
const opened = new Promise((r) => (ws.onopen = r));
const other = role === 'a' ? 'b' : 'a';
const send = (data) => ws.send(JSON.stringify({ to: other, data }));
let pc;
let pendingOffer;
const early = [];
function make(stream) {
  pc = new RTCPeerConnection({ iceServers: [] });
  pc.__madeAt = now();
  window.__barePcs.push(pc);
  for (const t of stream.getTracks()) pc.addTrack(t, stream);
  // Chromium decodes remote audio only for a sink that plays it, as the app's audio element does.
  pc.ontrack = (e) => { const el = new Audio(); el.srcObject = new MediaStream([e.track]); el.play().catch(() => {}); document.body.append(el); };
  pc.onicecandidate = (e) => send({ ice: e.candidate ? e.candidate.toJSON() : null });
}
ws.onmessage = async (e) => {
  const { data } = JSON.parse(e.data);
  if (data.offer) pendingOffer = data.offer;
  else if (data.answer) { await pc.setRemoteDescription(data.answer); for (const c of early.splice(0)) await pc.addIceCandidate(c || undefined); }
  else if ('ice' in data) { if (pc && pc.remoteDescription) await pc.addIceCandidate(data.ice || undefined); else early.push(data.ice); }
};
window.offer = async () => {
  await opened;
  make(await navigator.mediaDevices.getUserMedia({ audio: true }));
  await pc.setLocalDescription(await pc.createOffer());
  send({ offer: pc.localDescription.toJSON() });
};
window.accept = async () => {
  const t0 = now();
  make(await navigator.mediaDevices.getUserMedia({ audio: true }));
  await pc.setRemoteDescription(pendingOffer);
  for (const c of early.splice(0)) await pc.addIceCandidate(c || undefined);
  await pc.setLocalDescription(await pc.createAnswer());
  send({ answer: pc.localDescription.toJSON() });
  return t0;
};
window.hasOffer = () => Boolean(pendingOffer);
// The microphone is closed after each call, as the app closes it: each call opens it anew.
window.reset = () => { if (pc) { for (const s of pc.getSenders()) if (s.track) s.track.stop(); pc.close(); } pc = undefined; pendingOffer = undefined; early.length = 0; };
</script>`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const range = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))}`;
const verdict = (ok: boolean) => (ok ? 'met' : 'missed');

/** A bare relay and the bare page, on 127.0.0.1 (a secure context for getUserMedia). */
async function startBare(): Promise<{ url: string; close(): void }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(BARE_PAGE));
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const byId = new Map<string, WebSocket>();
  wss.on('connection', (ws, req) => {
    const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
    byId.set(id, ws);
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { to: string; data: unknown };
      byId.get(frame.to)?.send(JSON.stringify({ from: id, data: frame.data }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, close: () => (wss.close(), server.close()) };
}

async function timing(page: Page): Promise<{ clicks: Record<string, number>; ring: number }> {
  return page.evaluate(() => (window as unknown as { __timing: { clicks: Record<string, number>; ring: number } }).__timing);
}

async function firstAudio(page: Page, since: number): Promise<number> {
  return page.evaluate((s) => (window as unknown as { __firstAudio(s: number): Promise<number> }).__firstAudio(s), since);
}

async function appContext(dir: string, marker: string, frameCrypto = true): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...FAKE_MEDIA_ARGS, `--parley-bench=${marker}`],
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1000, height: 760 },
  });
  await context.grantPermissions(['microphone', 'camera']);
  await tapPeerConnections(context);
  await context.addInitScript(TIMING);
  if (!frameCrypto) await context.addInitScript('Object.defineProperty(window, "RTCRtpScriptTransform", { value: undefined });');
  return context;
}

/** CPU seconds so far of every process in the trees whose root was started with `--parley-bench=<marker>`. */
function cpuSeconds(marker: string): number {
  const procs = new Map<number, { ppid: number; ticks: number; root: boolean }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const root = readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(`--parley-bench=${marker}`);
      procs.set(Number(entry), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]), root });
    } catch {
      // Gone meanwhile.
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = procs.get(pid), hops = 0; p && hops < 20; p = procs.get(p.ppid), hops++) if (p.root) return true;
    return false;
  };
  let ticks = 0;
  for (const [pid, p] of procs) if (inTree(pid)) ticks += p.ticks;
  return ticks / CLOCK_TICK;
}

async function main(): Promise<void> {
  if (spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');
  const server: ServerProcess = await startServerProcess({ BCRYPT_COST: '4', LOG_LEVEL: 'warn' });
  const bare = await startBare();
  const dirs = [mkdtempSync(path.join(os.tmpdir(), 'parley-bench-calls-a-')), mkdtempSync(path.join(os.tmpdir(), 'parley-bench-calls-b-'))];
  const names = [`alice_${randomBytes(3).toString('hex')}`, `bob_${randomBytes(3).toString('hex')}`] as const;
  const open: BrowserContext[] = [];
  try {
    // ---- 1. setup
    const markers = [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')];
    const [ca, cb] = [await appContext(dirs[0]!, markers[0]!), await appContext(dirs[1]!, markers[1]!)];
    open.push(ca, cb);
    const [alice, bob] = [await ca.newPage(), await cb.newPage()];
    await signUp(alice, server.url, names[0]);
    await signUp(bob, server.url, names[1]);
    await befriend(alice, names[0], bob, names[1]);
    await startChat(alice, names[1]);
    const version = ca.browser()?.version() ?? (await alice.evaluate(() => navigator.userAgent));

    const ring: number[] = [];
    const appAudio: number[] = [];
    process.stderr.write('Parley calls: ');
    for (let i = 0; i <= CALLS; i++) {
      await call(alice, 'voice');
      await bob.getByRole('alertdialog', { name: 'Incoming voice call' }).waitFor();
      const since = (await timing(alice)).clicks['Voice call']!;
      const audio = [firstAudio(alice, since), firstAudio(bob, since)];
      await accept(bob);
      const [ta, tb] = await Promise.all(audio);
      const [a, b] = [await timing(alice), await timing(bob)];
      const accepted = b.clicks['Accept']!;
      if (i > 0) {
        ring.push(b.ring - a.clicks['Voice call']!);
        appAudio.push(ta! - accepted, tb! - accepted);
      }
      process.stderr.write(i > 0 ? `${Math.round(ta! - accepted)}/${Math.round(tb! - accepted)} ms ` : '(warm-up) ');
      await alice.getByRole('button', { name: 'End call' }).click();
      await bob.getByRole('region', { name: `Call with ${names[0]}` }).waitFor({ state: 'detached' });
      await bob.evaluate(() => ((window as unknown as { __timing: { ring: number } }).__timing.ring = 0));
      await alice.waitForTimeout(300);
    }
    process.stderr.write('\nbare pages: ');
    const bareAudio: number[] = [];
    // Like the app's two people, each bare page has a browser of its own.
    const bareBrowsers = [await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...FAKE_MEDIA_ARGS] }), await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...FAKE_MEDIA_ARGS] })];
    try {
      const pages: Page[] = [];
      for (const [i, b] of bareBrowsers.entries()) {
        const ctx = await b.newContext();
        await ctx.grantPermissions(['microphone']);
        await ctx.addInitScript(TIMING);
        const p = await ctx.newPage();
        await p.goto(`${bare.url}?role=${i === 0 ? 'a' : 'b'}`);
        pages.push(p);
      }
      const [pa, pb] = pages as [Page, Page];
      for (let i = 0; i <= CALLS; i++) {
        const since = await pa.evaluate(() => performance.timeOrigin + performance.now());
        await pa.evaluate(() => (window as unknown as { offer(): Promise<void> }).offer());
        await pb.waitForFunction(() => (window as unknown as { hasOffer(): boolean }).hasOffer());
        const audio = [firstAudio(pa, since), firstAudio(pb, since)];
        const t0 = await pb.evaluate(() => (window as unknown as { accept(): Promise<number> }).accept());
        const [ta, tb] = await Promise.all(audio);
        if (i > 0) bareAudio.push(ta! - t0, tb! - t0);
        process.stderr.write(i > 0 ? `${Math.round(ta! - t0)}/${Math.round(tb! - t0)} ms ` : '(warm-up) ');
        for (const p of [pa, pb]) await p.evaluate(() => (window as unknown as { reset(): void }).reset());
        await pa.waitForTimeout(300);
      }
    } finally {
      for (const b of bareBrowsers) await b.close();
    }
    process.stderr.write('\n');
    for (const c of open.splice(0)) await c.close();

    // ---- 2. CPU of a video call, with and without frame encryption
    const cpu = { sealed: [] as number[], plain: [] as number[] };
    const fps = { sealed: [] as number[], plain: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const order: Array<'sealed' | 'plain'> = round % 2 === 0 ? ['sealed', 'plain'] : ['plain', 'sealed'];
      for (const variant of order) {
        const ms = [randomBytes(4).toString('hex'), randomBytes(4).toString('hex')];
        const contexts = [await appContext(dirs[0]!, ms[0]!, variant === 'sealed'), await appContext(dirs[1]!, ms[1]!, variant === 'sealed')];
        open.push(...contexts);
        const [pa, pb] = [await contexts[0]!.newPage(), await contexts[1]!.newPage()];
        for (const [p, n] of [[pa, names[0]], [pb, names[1]]] as const) {
          await p.goto(server.url);
          await waitConnected(p).catch(async () => logIn(p, server.url, n));
        }
        await startChat(pa!, names[1]);
        await call(pa!, 'video');
        await accept(pb!);
        const line = variant === 'sealed' ? 'frames end-to-end encrypted' : /^direct · end-to-end encrypted$/;
        await pa!.getByRole('region', { name: `Call with ${names[1]}` }).getByText(line).waitFor({ timeout: 30_000 });
        for (const p of [pa!, pb!]) await waitFigures(p, 'video', (f) => f.framesDecoded > 30);
        // Both variants send video at the same rate: left to itself, bandwidth estimation ramps
        // up at its own pace in each call, and the encoder's CPU follows the rate it reaches.
        for (const p of [pa!, pb!]) await p.evaluate(capVideo, VIDEO_BITRATE);
        await pa!.waitForTimeout(5_000);
        const frames0 = (await waitFigures(pb!, 'video', () => true)).framesDecoded;
        const before = cpuSeconds(ms[0]!) + cpuSeconds(ms[1]!);
        const t0 = Date.now();
        await pa!.waitForTimeout(SECONDS * 1000);
        const used = cpuSeconds(ms[0]!) + cpuSeconds(ms[1]!) - before;
        const elapsed = (Date.now() - t0) / 1000;
        const frames1 = (await waitFigures(pb!, 'video', () => true)).framesDecoded;
        cpu[variant].push(used / elapsed);
        fps[variant].push((frames1 - frames0) / elapsed);
        process.stderr.write(`round ${round + 1} ${variant}: ${(used / elapsed).toFixed(2)} CPU-s/s, ${((frames1 - frames0) / elapsed).toFixed(1)} fps\n`);
        await pa!.getByRole('button', { name: 'End call' }).click();
        for (const c of open.splice(0)) await c.close();
      }
    }

    const appMedian = median(appAudio);
    const bareMedian = median(bareAudio);
    const audioRatio = appMedian / bareMedian;
    const perRound = cpu.sealed.map((c, i) => c / cpu.plain[i]!);
    const cpuRatio = median(perRound);
    console.log(`\nChromium ${version}, fake devices, loopback; ${CALLS} voice calls after a warm-up (both sides' first audio each); video: ${ROUNDS} rounds × ${SECONDS} s of 640×480\n`);
    console.log('| measure | baseline | Parley | ratio | target |');
    console.log('| --- | --- | --- | --- | --- |');
    if (CALLS > 0) {
      console.log(`| "Voice call" → callee's ring | — | ${Math.round(median(ring))} ms (${range(ring)}) | — | — |`);
      console.log(`| "Accept" → first decoded audio, each side | bare pages: ${Math.round(bareMedian)} ms (${range(bareAudio)}) | ${Math.round(appMedian)} ms (${range(appAudio)}) | ${audioRatio.toFixed(2)}× | ≤ 2× ${verdict(audioRatio <= 2)} |`);
    }
    if (ROUNDS > 0) console.log(
      `| CPU of a 640×480 video call, both browsers | without frame encryption: ${median(cpu.plain).toFixed(2)} CPU-s/s (${median(fps.plain).toFixed(1)} fps) | with: ${median(cpu.sealed).toFixed(2)} CPU-s/s (${median(fps.sealed).toFixed(1)} fps) | ${cpuRatio.toFixed(2)}× (rounds ${perRound.map((r) => r.toFixed(2)).join(', ')}) | ≤ 1.15× ${verdict(cpuRatio <= 1.15)} |`,
    );
  } finally {
    for (const c of open) await c.close().catch(() => undefined);
    bare.close();
    await server.kill();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
