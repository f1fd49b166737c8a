// Direct against relayed (issue #7): `npm run bench:turn` (root: network namespaces).
// On the NAT test network (e2e/support/netns/topology.ts) with DELAY_MS added to every packet
// on each home link, each way (tc netem, or the delay-link stand-in when the kernel has no
// netem), for three paths: direct through two permissive NATs, relayed by coturn over UDP
// (UDP blocked between the NATs), relayed over TLS on 443 (only TCP 443 open):
//  1. channel setup: Alice and Bob are contacts of each other; from the click on "Start chat"
//     to Alice's status line saying the direct channel is end-to-end encrypted and bound
//     ("End-to-end encrypted · direct|relayed"), timed inside her page; nobody answers anything
//     (issue #16). Between runs both pages reload, so each run sets up a new channel. Warm-up
//     run excluded.
//  2. throughput: TRANSFER_BYTES from Alice to Bob in chunks the size of an encrypted 16 KiB
//     payload, on a second DataChannel of the channel's own peer connection (same path, same
//     SCTP association), with the usual bufferedAmount flow control.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { befriend, signUp, startChat, waitConnected } from '../e2e/support/app.ts';
import { newContext, selectedPair, tapPeerConnections } from '../e2e/support/browser.ts';
import { launchChromiumIn } from '../e2e/support/netns/chromium.ts';
import { startCoturn, TURN_PORT, type Coturn } from '../e2e/support/netns/coturn.ts';
import { ADDR, createTopology, missingTools, whyNetworkTestsCannotRun, type NatPolicy, type Topology } from '../e2e/support/netns/topology.ts';
import { startServerProcess, type ServerProcess } from '../e2e/support/server-process.ts';

const DELAY_MS = Number(process.env.DELAY_MS ?? 40);
const CALLS = Number(process.env.CALLS ?? 5);
const TRANSFERS = Number(process.env.TRANSFERS ?? 3);
const TRANSFER_BYTES = 8 * 1024 * 1024;
/** A message envelope around a 16 KiB padded payload: version and kind (2), ratchet header (73), IV (12), ciphertext with GCM tag (16,384 + 16). */
const CHUNK_BYTES = 2 + 73 + 12 + 16_384 + 16;

interface Mode {
  label: string;
  policy: NatPolicy;
  expect: 'direct' | 'relayed';
}

const MODES: Mode[] = [
  { label: 'direct (permissive NATs)', policy: 'permissive', expect: 'direct' },
  { label: 'relayed, TURN over UDP (UDP blocked between NATs)', policy: 'udp-blocked-between-nats', expect: 'relayed' },
  { label: 'relayed, TURN over TLS on 443 (only TCP 443 open)', policy: 'tcp-443-only', expect: 'relayed' },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Resolves with ms from the click on "Start chat" to the bound, encrypted status line. */
async function armSetupTimer(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __setup?: Promise<number> };
    w.__setup = new Promise<number>((resolve) => {
      let clickedAt = 0;
      const button = [...document.querySelectorAll('button')].find((b) => b.textContent === 'Start chat')!;
      button.addEventListener('click', () => (clickedAt = performance.now()), { capture: true, once: true });
      const observer = new MutationObserver(() => {
        const status = document.querySelector('.chat-status')?.textContent ?? '';
        if (clickedAt && /End-to-end encrypted · (direct|relayed)$/.test(status)) {
          observer.disconnect();
          resolve(performance.now() - clickedAt);
        }
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    });
  });
}

async function oneCall(alice: Page, bobName: string): Promise<{ ms: number; path: string }> {
  await armSetupTimer(alice);
  await startChat(alice, bobName);
  const ms = await alice.evaluate(() => (window as unknown as { __setup: Promise<number> }).__setup);
  const status = (await alice.locator('.chat-status').textContent()) ?? '';
  return { ms, path: status.endsWith('relayed') ? 'relayed' : 'direct' };
}

/** Both pages reload: the channel is gone, and neither has a chat open to set it up again. */
async function hangUp(alice: Page, bob: Page): Promise<void> {
  for (const p of [bob, alice]) {
    await p.reload();
    await waitConnected(p);
  }
  // Presence of each other arrives just after the connection.
  await alice.waitForTimeout(1_500);
}

/** The selected pair's current round-trip time as ICE measures it (STUN consent checks), in ms. */
async function roundTrip(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __parleyPeerConnections: RTCPeerConnection[] }).__parleyPeerConnections;
    const pc = [...pcs].reverse().find((p) => p.connectionState === 'connected')!;
    const stats = await pc.getStats();
    let rtt = Number.NaN;
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') rtt = Number((stats.get(s.selectedCandidatePairId) as Record<string, unknown>).currentRoundTripTime) * 1000;
    });
    return rtt;
  });
}

/** Bytes per second from Alice to Bob on a negotiated DataChannel of the open call. */
async function transfer(alice: Page, bob: Page, id: number): Promise<number> {
  // The receiving end first: bytes for a negotiated channel Bob has not made yet are dropped.
  await bob.evaluate(
    ({ id, total }) => {
      const pcs = (window as unknown as { __parleyPeerConnections: RTCPeerConnection[] }).__parleyPeerConnections;
      const pc = [...pcs].reverse().find((p) => p.connectionState === 'connected');
      if (!pc) throw new Error('no connected peer connection');
      const ch = pc.createDataChannel(`bench-${id}`, { negotiated: true, id, ordered: true });
      ch.binaryType = 'arraybuffer';
      (window as unknown as { __received: Promise<number> }).__received = new Promise<number>((resolve, reject) => {
        let got = 0;
        ch.onmessage = (e) => {
          got += (e.data as ArrayBuffer).byteLength;
          if (got >= total) {
            resolve(Date.now());
            ch.close();
          }
        };
        setTimeout(() => reject(new Error(`only ${got} of ${total} bytes arrived`)), 120_000);
      });
    },
    { id, total: TRANSFER_BYTES },
  );
  const startedAt = await alice.evaluate(
    async ({ id, total, chunk }) => {
      const pcs = (window as unknown as { __parleyPeerConnections: RTCPeerConnection[] }).__parleyPeerConnections;
      const pc = [...pcs].reverse().find((p) => p.connectionState === 'connected')!;
      const ch = pc.createDataChannel(`bench-${id}`, { negotiated: true, id, ordered: true });
      await new Promise<void>((resolve) => (ch.readyState === 'open' ? resolve() : (ch.onopen = () => resolve())));
      const data = crypto.getRandomValues(new Uint8Array(chunk));
      const high = 4 * 1024 * 1024;
      ch.bufferedAmountLowThreshold = 1024 * 1024;
      const started = Date.now();
      for (let sent = 0; sent < total; sent += chunk) {
        if (ch.bufferedAmount > high) await new Promise<void>((resolve) => (ch.onbufferedamountlow = () => resolve()));
        ch.send(data.subarray(0, Math.min(chunk, total - sent)));
      }
      return started;
    },
    { id, total: TRANSFER_BYTES, chunk: CHUNK_BYTES },
  );
  const endedAt = await bob.evaluate(() => (window as unknown as { __received: Promise<number> }).__received);
  return TRANSFER_BYTES / ((endedAt - startedAt) / 1000);
}

async function main(): Promise<void> {
  const why = await whyNetworkTestsCannotRun();
  if (why) {
    console.error(`bench:turn cannot run: ${why}`);
    process.exit(2);
  }
  const missing = await missingTools();
  if (missing.length) {
    console.error(`bench:turn needs: ${missing.join(', ')}`);
    process.exit(2);
  }
  if (spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' }).status !== 0) throw new Error('build failed');

  let t: Topology | undefined;
  let coturn: Coturn | undefined;
  let server: ServerProcess | undefined;
  const browsers: Browser[] = [];
  try {
    t = await createTopology({ delayMs: DELAY_MS });
    coturn = await startCoturn(t);
    server = await startServerProcess(
      { HOST: ADDR.parley, PORT: '443', BCRYPT_COST: '4', TURN_HOST: ADDR.turn, TURN_PORT: String(TURN_PORT), TURN_TLS_PORT: '443', TURN_SECRET: coturn.secret },
      { netns: t.ns.srv },
    );
    const pages: Page[] = [];
    const names = [`alice_${randomBytes(3).toString('hex')}`, `bob_${randomBytes(3).toString('hex')}`];
    for (const [i, role] of (['homeA', 'homeB'] as const).entries()) {
      const browser = await launchChromiumIn(t, role, [`--ignore-certificate-errors-spki-list=${coturn.spki}`]);
      browsers.push(browser);
      // Not the e2e recorder: copying every DataChannel byte into a string would be what is measured.
      const context = await newContext(browser);
      await tapPeerConnections(context);
      const page = await context.newPage();
      await signUp(page, server.url, names[i]!);
      pages.push(page);
    }
    const [alice, bob] = pages as [Page, Page];
    await befriend(alice, names[0]!, bob, names[1]!);
    const version = browsers[0]!.version();

    const rows: Array<{ mode: Mode; via: string; rtt: number; setup: number[]; rate: number }> = [];
    let channelId = 100;
    for (const mode of MODES) {
      await t.setPolicy(mode.policy);
      process.stderr.write(`${mode.label}: `);
      const times: number[] = [];
      for (let i = 0; i <= CALLS; i++) {
        const r = await oneCall(alice, names[1]!);
        if (r.path !== mode.expect) throw new Error(`${mode.label}: the call went ${r.path}`);
        if (i > 0) times.push(r.ms); // the first is a warm-up
        process.stderr.write(i > 0 ? `${Math.round(r.ms)} ms ` : '(warm-up) ');
        if (i < CALLS) await hangUp(alice, bob);
      }
      const pair = await selectedPair(alice);
      const via = pair?.local.type === 'relay' ? `relay over ${pair.local.relayProtocol}` : pair?.remote.type === 'relay' ? 'peer relay' : `${pair?.local.type} ↔ ${pair?.remote.type}`;
      const rtt = await roundTrip(alice);
      const rates: number[] = [];
      for (let i = 0; i < TRANSFERS; i++) rates.push(await transfer(alice, bob, channelId++));
      process.stderr.write(`| ${rates.map((r) => (r / 1e6).toFixed(1)).join(', ')} MB/s\n`);
      await hangUp(alice, bob);
      rows.push({ mode, via, rtt, setup: times, rate: median(rates) });
    }
    const base = rows[0]!;
    const delay = t.delay ? `${t.delay.ms} ms added on each home link, each way (${t.delay.method})` : 'no added delay';
    console.log(`\nChromium ${version}; ${delay}; channel setup: median of ${CALLS} runs after a warm-up (min–max); throughput: ${TRANSFER_BYTES / 1024 / 1024} MiB in ${CHUNK_BYTES}-byte chunks, median of ${TRANSFERS}\n`);
    console.log('| path | selected pair (Alice) | ICE round trip | "Start chat" → encrypted direct channel | vs direct | throughput | vs direct |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      const setup = median(r.setup);
      console.log(
        `| ${r.mode.label} | ${r.via} | ${Math.round(r.rtt)} ms | ${Math.round(setup)} ms (${Math.round(Math.min(...r.setup))}–${Math.round(Math.max(...r.setup))}) | ${(setup / median(base.setup)).toFixed(2)}× | ${(r.rate / 1e6).toFixed(1)} MB/s | ${(r.rate / base.rate).toFixed(2)}× |`,
      );
    }
  } finally {
    for (const b of browsers) await b.close().catch(() => undefined);
    await server?.kill();
    await coturn?.stop();
    await t?.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
