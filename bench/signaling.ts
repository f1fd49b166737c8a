// Signaling relay under load (issue #5): `npm run bench:signaling` (`-- --quick` for a smoke run).
// In one run, the same load generator against, one after another and each in a fresh child process:
//  - the bare `ws` relay (bench/signaling/bare-relay.ts): the ceiling, no auth, no validation;
//  - the PeerJS server (npm package `peer`, its own protocol);
//  - Parley, one process (SQLite, in-process bus), with authentication, validation and rate limits on;
//  - Parley, two processes over Redis and PostgreSQL, partners on different processes.
// All three relays speak TLS with the same certificate: Parley does by default, so the others do
// too, or the comparison would measure TLS rather than the relay. Memory is also measured with all
// three on plain HTTP, at the first size (Parley with TLS_OFFLOAD=1, as behind nginx): the issue's
// 6 KB target was set against relays without TLS.
// For each: memory per idle connection (RSS and heap over the baseline after a full GC, / N),
// frames per second at saturation (median of five), one-way relay latency p50/p99 at 2,000
// frames/s offered (medians of three windows); for Parley also during a login storm (bcrypt cost 12,
// many concurrent logins), and for Parley and the bare relay beside a lowest-priority busy loop on
// every core with no logins at all (what saturated cores alone cost a relay here: the storm's baseline).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import pg from 'pg';
import { loadConfig } from '../src/server/config.ts';
import { createPasswordHasher } from '../src/server/auth/password-hasher.ts';
import { generateSelfSigned } from '../src/server/tls/self-signed.ts';
import { startChild, type Child } from './signaling/children.ts';
import { seedUsers } from './signaling/seed.ts';
import { compileRelays } from './signaling/compile.ts';
import { startLoginStorm } from './signaling/login-storm.ts';
import { startBusyCores } from './signaling/busy-cores.ts';
import { benchUserName, type TargetKind } from './signaling/protocols.ts';
import { fmtInt, fmtKb, fmtMs, fmtRatio, median, percentile } from './signaling/stats.ts';

const quick = process.argv.includes('--quick');
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const SIZES = quick ? [Number(process.env.BENCH_QUICK_N || 400)] : [10_000, 19_000];
const REDIS_N = quick ? 400 : 10_000;
const PHASE = quick
  ? { warmupMs: 500, measureMs: 1500, saturations: 3, repeats: 3, latencyMs: 3000, stormLeadMs: 1500 }
  : // Five saturation windows: with three, one relay's median moved by 15 % between runs.
    { warmupMs: 1500, measureMs: 4000, saturations: 5, repeats: 3, latencyMs: 8000, stormLeadMs: 3000 };
const RATE = 2000;
const STORM_CONCURRENCY = 16;
const PASSWORD = 'correct horse battery staple';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

interface Scenario {
  label: string;
  kind: TargetKind;
  n: number;
  /** Parley processes sharing Redis and PostgreSQL; 1 = SQLite and the in-process bus. */
  processes: number;
  storm: boolean;
  /** Also measured beside a lowest-priority busy loop on every core (the storm's baseline). */
  busy: boolean;
  /**
   * false: plain HTTP, as behind a proxy that terminates TLS (Parley with TLS_OFFLOAD=1), and
   * only memory is measured: the issue's memory target was set against relays without TLS.
   */
  tls: boolean;
}

interface Latency {
  p50: number;
  p99: number;
  sent: number;
  received: number;
}

interface Result {
  scenario: Scenario;
  connected: number;
  failed: number;
  connectSeconds: number;
  rssPerConn: number;
  heapPerConn: number;
  saturation: number[];
  cpuPerFrame: number[];
  lost: number;
  calm: Latency;
  storm?: Latency & { loginsPerSecond: number; statuses: Record<string, number> };
  busy?: Latency;
  unexpected: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);

async function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-signaling-'));
  const pair = await generateSelfSigned(['127.0.0.1']);
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  writeFileSync(certFile, pair.cert);
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey: JWK = { ...(await exportJWK(privateKey)), alg: 'ES256' };
  // One bcrypt hash at the real cost, shared by every seeded account.
  const passwordHash = await createPasswordHasher({ algorithm: 'bcrypt', bcryptCost: 12 }).hash(PASSWORD);
  const compiled = compileRelays();
  return { dir, certFile, keyFile, signingKey, passwordHash, ca: readFileSync(certFile), compiled };
}
type Setup = Awaited<ReturnType<typeof setup>>;

function parleyEnv(s: Setup, dataDir: string, scenario: Scenario, schema: string): NodeJS.ProcessEnv {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    CLIENT_DIR: '',
    // Without TLS, the generator says what nginx would: this came over HTTPS.
    ...(scenario.tls ? { TLS_CERT: s.certFile, TLS_KEY: s.keyFile } : { TLS_OFFLOAD: '1', TRUST_PROXY: '127.0.0.1', BENCH_PLAIN: '1' }),
    TOKEN_SIGNING_KEY: JSON.stringify(s.signingKey),
    BCRYPT_COST: '12',
    // The storm is one address logging in to many accounts: the per-address and per-account
    // guess limits would answer 429 without hashing, which is not the load to be measured.
    LOGIN_LIMIT_PER_IP: '1000000',
    LOGIN_LIMIT_PER_USER: '1000000',
    // A quick run has few connections, so each must send far faster than a browser would.
    ...(quick ? { SIGNALING_FRAMES_PER_SECOND: '100000', SIGNALING_FRAME_BURST: '100000' } : {}),
    ...(scenario.processes > 1 ? { REDIS_URL, REDIS_PREFIX: `${schema}:`, DATABASE_URL, DATABASE_SCHEMA: schema } : {}),
  };
}

async function startTargets(s: Setup, scenario: Scenario, schema: string): Promise<{ servers: Child[]; origins: string[] }> {
  const servers: Child[] = [];
  const origins: string[] = [];
  for (let p = 0; p < scenario.processes; p++) {
    const dataDir = path.join(s.dir, `${scenario.kind}-${scenario.tls ? 'tls' : 'plain'}-${scenario.n}-${scenario.processes}-${p}`);
    mkdirSync(dataDir, { recursive: true });
    const env = scenario.kind === 'parley' ? parleyEnv(s, dataDir, scenario, schema) : scenario.tls ? { TLS_CERT: s.certFile, TLS_KEY: s.keyFile } : { BENCH_PLAIN: '1' };
    if (scenario.kind === 'parley' && p === 0) {
      const seconds = await seedUsers(loadConfig(env, process.cwd(), []), scenario.n, s.passwordHash);
      log(`  seeded ${fmtInt(scenario.n)} accounts in ${seconds.toFixed(1)} s`);
    }
    const child = startChild('server-child.ts', { ...env, BENCH_TARGET: scenario.kind }, `${scenario.label} server ${p}`, s.compiled);
    servers.push(child);
    const { port } = await child.request<{ port: number }>('start');
    origins.push(`${scenario.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`);
  }
  return { servers, origins };
}

async function memory(servers: Child[]) {
  const all = await Promise.all(servers.map((c) => c.request<{ rss: number; heapUsed: number }>('memory')));
  return { rss: all.reduce((a, m) => a + m.rss, 0), heap: all.reduce((a, m) => a + m.heapUsed, 0) };
}

/** User + system CPU time of the relay processes, in µs. */
async function cpu(servers: Child[]): Promise<{ user: number; system: number }> {
  const all = await Promise.all(servers.map((c) => c.request<{ user: number; system: number }>('cpu')));
  return { user: all.reduce((a, u) => a + u.user, 0), system: all.reduce((a, u) => a + u.system, 0) };
}

async function latencyWindow(gens: Child[]): Promise<Latency> {
  const parts = await Promise.all(gens.map((g) => g.request<{ sent: number; received: number; latencies: number[] }>('latency', { rate: RATE / gens.length, durationMs: PHASE.latencyMs })));
  const all = parts.flatMap((p) => p.latencies);
  return { p50: percentile(all, 50), p99: percentile(all, 99), sent: parts.reduce((a, p) => a + p.sent, 0), received: parts.reduce((a, p) => a + p.received, 0) };
}

/**
 * p50 and p99 as the medians of windows, as for saturation: a single window's p99 moved by a
 * factor of two between runs of the same code (a garbage collection or a scheduling hiccup
 * landing in one window), more than the differences being measured.
 */
function medianLatency(windows: Latency[]): Latency {
  return {
    p50: median(windows.map((w) => w.p50)),
    p99: median(windows.map((w) => w.p99)),
    sent: windows.reduce((a, w) => a + w.sent, 0),
    received: windows.reduce((a, w) => a + w.received, 0),
  };
}

async function loggedWindow(gens: Child[], relay: Child, label: string): Promise<Latency> {
  await relay.request('loopDelay', { reset: true });
  const w = await latencyWindow(gens);
  const loop = await relay.request<{ p99: number; max: number }>('loopDelay', { reset: true });
  log(`  ${label}: p50 ${fmtMs(w.p50)}, p99 ${fmtMs(w.p99)} (${w.received}/${w.sent}); relay event loop delay max ${fmtMs(loop.max)}`);
  return w;
}

async function run(s: Setup, scenario: Scenario): Promise<Result> {
  log(`${scenario.label}, ${fmtInt(scenario.n)} clients`);
  const schema = `bench_signaling_${process.pid}_${scenario.n}`;
  const children: Child[] = [];
  try {
    const { servers, origins } = await startTargets(s, scenario, schema);
    children.push(...servers);
    await sleep(1000);
    const base = await memory(servers);

    // About 5,000–7,000 sockets a generator: each process stays far below 20,000 open files.
    const count = Math.max(2, Math.ceil(scenario.n / 7000));
    const slice = 2 * Math.ceil(scenario.n / count / 2);
    const gens: Child[] = [];
    for (let g = 0; g < count; g++) {
      const gen = startChild('generator.ts', { TLS_CERT: s.certFile }, `${scenario.label} generator ${g}`);
      gens.push(gen);
      children.push(gen);
    }
    const t0 = performance.now();
    const connected = await Promise.all(
      gens.map((gen, g) =>
        gen.request<{ connected: number; failed: number; firstError: string }>('connect', {
          kind: scenario.kind,
          origins,
          first: g * slice,
          count: Math.min(slice, scenario.n - g * slice),
          signingKey: scenario.kind === 'parley' ? s.signingKey : undefined,
          headers: scenario.tls ? undefined : { 'x-forwarded-proto': 'https' },
          concurrency: 32,
        }),
      ),
    );
    const connectSeconds = (performance.now() - t0) / 1000;
    const up = connected.reduce((a, c) => a + c.connected, 0);
    const failed = connected.reduce((a, c) => a + c.failed, 0);
    log(`  ${fmtInt(up)} connected in ${connectSeconds.toFixed(1)} s${failed ? `, ${failed} failed (${connected.find((c) => c.firstError)?.firstError})` : ''}`);
    await sleep(2000);
    const loaded = await memory(servers);
    const rssPerConn = (loaded.rss - base.rss) / up;
    const heapPerConn = (loaded.heap - base.heap) / up;
    log(`  memory per connection: RSS ${fmtKb(rssPerConn)}, heap ${fmtKb(heapPerConn)}`);
    const nothing: Latency = { p50: NaN, p99: NaN, sent: 0, received: 0 };
    if (!scenario.tls) return { scenario, connected: up, failed, connectSeconds, rssPerConn, heapPerConn, saturation: [], cpuPerFrame: [], lost: 0, calm: nothing, unexpected: {} };

    const saturation: number[] = [];
    const cpuPerFrame: number[] = [];
    let lost = 0;
    for (let r = 0; r < PHASE.saturations; r++) {
      const cpuBefore = await cpu(servers);
      const parts = await Promise.all(gens.map((g) => g.request<{ frames: number; seconds: number; lost: number; received: number }>('saturate', { warmupMs: PHASE.warmupMs, measureMs: PHASE.measureMs })));
      const fps = parts.reduce((a, p) => a + p.frames / p.seconds, 0);
      // CPU time the relay spent per frame: unlike frames/s, hardly moved by other load on the machine.
      const cpuAfter = await cpu(servers);
      const received = parts.reduce((a, p) => a + p.received, 0);
      const userPerFrame = (cpuAfter.user - cpuBefore.user) / received;
      const systemPerFrame = (cpuAfter.system - cpuBefore.system) / received;
      cpuPerFrame.push(userPerFrame + systemPerFrame);
      lost += parts.reduce((a, p) => a + p.lost, 0);
      saturation.push(fps);
      log(`  saturation ${r + 1}: ${fmtInt(fps)} frames/s, relay CPU ${cpuPerFrame.at(-1)!.toFixed(1)} µs/frame (user ${userPerFrame.toFixed(1)}, system ${systemPerFrame.toFixed(1)})`);
      await sleep(500);
    }

    // Calm, busy-core and storm windows take turns (calm, busy, storm, calm, …) rather than all
    // calm windows first: this shared machine's own tail moves within a minute (one run's calm
    // p99 ranged from 0.6 to 6 ms window to window), and the ratios are to compare like with like.
    // Each storm starts afresh, runs a lead-in before its window, and is drained after it.
    const calmWindows: Latency[] = [];
    const stormWindows: Latency[] = [];
    const busyWindows: Latency[] = [];
    const stormTotals = { logins: 0, seconds: 0, statuses: {} as Record<string, number> };
    const stormUsers = Array.from({ length: Math.min(1000, scenario.n) }, (_, i) => benchUserName(i));
    for (let r = 0; r < PHASE.repeats; r++) {
      calmWindows.push(await loggedWindow(gens, servers[0]!, `${RATE} frames/s ${r + 1}`));
      if (scenario.busy) {
        const busy = startBusyCores();
        await sleep(1000);
        busyWindows.push(await loggedWindow(gens, servers[0]!, `busy cores ${r + 1}`));
        await busy.stop();
        await sleep(500);
      }
      if (!scenario.storm) continue;
      const st = startLoginStorm(origins[0]!.replace('wss:', 'https:'), s.ca, stormUsers, PASSWORD, STORM_CONCURRENCY);
      await sleep(PHASE.stormLeadMs);
      stormWindows.push(await loggedWindow(gens, servers[0]!, `during the storm ${r + 1}`));
      const done = await st.stop();
      stormTotals.logins += done.logins;
      stormTotals.seconds += done.seconds;
      for (const [k, v] of Object.entries(done.statuses)) stormTotals.statuses[k] = (stormTotals.statuses[k] ?? 0) + v;
    }
    const calm = medianLatency(calmWindows);
    log(`  ${RATE} frames/s, median of ${PHASE.repeats}: p50 ${fmtMs(calm.p50)}, p99 ${fmtMs(calm.p99)}`);
    const busy = scenario.busy ? medianLatency(busyWindows) : undefined;
    if (busy) log(`  beside a lowest-priority busy loop on every core, median of ${PHASE.repeats}: p50 ${fmtMs(busy.p50)}, p99 ${fmtMs(busy.p99)}`);
    let storm: Result['storm'];
    if (scenario.storm) {
      const during = medianLatency(stormWindows);
      storm = { ...during, loginsPerSecond: stormTotals.logins / stormTotals.seconds, statuses: stormTotals.statuses };
      log(`  during login storm (${storm.loginsPerSecond.toFixed(1)} logins/s, ${JSON.stringify(storm.statuses)}), median of ${PHASE.repeats}: p50 ${fmtMs(during.p50)}, p99 ${fmtMs(during.p99)}`);
    }

    const unexpected: Record<string, number> = {};
    for (const g of gens) for (const [k, v] of Object.entries(await g.request<Record<string, number>>('unexpected'))) unexpected[k] = (unexpected[k] ?? 0) + v;
    if (Object.keys(unexpected).length) log(`  other frames: ${JSON.stringify(unexpected)}`);
    return { scenario, connected: up, failed, connectSeconds, rssPerConn, heapPerConn, saturation, cpuPerFrame, lost, calm, storm, busy, unexpected };
  } finally {
    await Promise.all(children.map((c) => c.stop()));
    if (scenario.processes > 1) {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  }
}

function verdict(ok: boolean, detail: string): string {
  return `${ok ? 'met' : 'missed'} (${detail})`;
}

/** A ratio shown with enough digits that it cannot round onto the threshold it is judged by. */
function judgedRatio(ratio: number, threshold: number): string {
  return fmtRatio(ratio) === fmtRatio(threshold) ? `${ratio.toFixed(3)}×` : fmtRatio(ratio);
}

function table(results: Result[]): string {
  const lines: string[] = [];
  const find = (kind: TargetKind, n: number, processes = 1, tls = true) => results.find((r) => r.scenario.kind === kind && r.scenario.n === n && r.scenario.processes === processes && r.scenario.tls === tls);
  for (const n of SIZES) {
    const bare = find('bare', n);
    const peer = find('peerjs', n);
    const parley = find('parley', n);
    if (!bare || !peer || !parley) continue;
    const sat = (r: Result) => median(r.saturation);
    lines.push(`**${fmtInt(n)} connected clients, one relay process**`, '');
    lines.push('| measure | bare ws | PeerJS | Parley | Parley / bare ws | Parley / PeerJS | target |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    const satRatioPeer = sat(parley) / sat(peer);
    const satRatioBare = sat(parley) / sat(bare);
    lines.push(
      `| frames/s at saturation (median of ${PHASE.saturations}) | ${fmtInt(sat(bare))} | ${fmtInt(sat(peer))} | ${fmtInt(sat(parley))} | ${fmtRatio(satRatioBare)} | ${fmtRatio(satRatioPeer)} | ≥ 1.0× PeerJS: ${verdict(satRatioPeer >= 1, judgedRatio(satRatioPeer, 1))}; ≥ 0.9× bare: ${verdict(satRatioBare >= 0.9, judgedRatio(satRatioBare, 0.9))} |`,
    );
    const us = (r: Result) => median(r.cpuPerFrame);
    lines.push(`| relay CPU time per frame at saturation (median) | ${us(bare).toFixed(1)} µs | ${us(peer).toFixed(1)} µs | ${us(parley).toFixed(1)} µs | ${fmtRatio(us(parley) / us(bare))} | ${fmtRatio(us(parley) / us(peer))} | |`);
    lines.push(
      `| memory per idle connection, RSS | ${fmtKb(bare.rssPerConn)} | ${fmtKb(peer.rssPerConn)} | ${fmtKb(parley.rssPerConn)} | ${fmtRatio(parley.rssPerConn / bare.rssPerConn)} | ${fmtRatio(parley.rssPerConn / peer.rssPerConn)} | ≤ 6 KB: ${verdict(parley.rssPerConn <= 6144, `${fmtKb(Math.abs(parley.rssPerConn - 6144))} ${parley.rssPerConn <= 6144 ? 'to spare' : 'over'}; TLS is most of it`)} |`,
    );
    lines.push(
      `| memory per idle connection, JS heap | ${fmtKb(bare.heapPerConn)} | ${fmtKb(peer.heapPerConn)} | ${fmtKb(parley.heapPerConn)} | ${fmtRatio(parley.heapPerConn / bare.heapPerConn)} | ${fmtRatio(parley.heapPerConn / peer.heapPerConn)} | ≤ 6 KB: ${verdict(parley.heapPerConn <= 6144, `${fmtKb(Math.abs(parley.heapPerConn - 6144))} ${parley.heapPerConn <= 6144 ? 'to spare' : 'over'}`)} |`,
    );
    lines.push(`| relay latency p50 at ${fmtInt(RATE)} frames/s (median of ${PHASE.repeats}) | ${fmtMs(bare.calm.p50)} | ${fmtMs(peer.calm.p50)} | ${fmtMs(parley.calm.p50)} | ${fmtRatio(parley.calm.p50 / bare.calm.p50)} | ${fmtRatio(parley.calm.p50 / peer.calm.p50)} | |`);
    const p99Ratio = parley.calm.p99 / bare.calm.p99;
    lines.push(
      `| relay latency p99 at ${fmtInt(RATE)} frames/s (median of ${PHASE.repeats}) | ${fmtMs(bare.calm.p99)} | ${fmtMs(peer.calm.p99)} | ${fmtMs(parley.calm.p99)} | ${fmtRatio(p99Ratio)} | ${fmtRatio(parley.calm.p99 / peer.calm.p99)} | ≤ bare ws: ${verdict(p99Ratio <= 1, judgedRatio(p99Ratio, 1))} |`,
    );
    const ownCalm = (r: Result) => (r.busy ? `${fmtMs(r.busy.p99)} (${fmtRatio(r.busy.p99 / r.calm.p99)} its calm)` : '');
    if (bare.busy && parley.busy) {
      lines.push(
        `| relay latency p99 beside a lowest-priority busy loop on every core, no logins (median of ${PHASE.repeats}) | ${ownCalm(bare)} | | ${ownCalm(parley)} | ${fmtRatio(parley.busy.p99 / bare.busy.p99)} | | the storm's baseline |`,
      );
    }
    if (parley.storm) {
      const stormRatio = parley.storm.p99 / parley.calm.p99;
      lines.push(
        `| Parley p99 during a login storm (${parley.storm.loginsPerSecond.toFixed(1)} bcrypt-12 logins/s, median of ${PHASE.repeats}) | | | ${fmtMs(parley.storm.p99)} (p50 ${fmtMs(parley.storm.p50)}) | | | ≤ 2× calm: ${verdict(stormRatio <= 2, `${judgedRatio(stormRatio, 2)} calm`)} |`,
      );
    }
    lines.push(`| time to connect (and authenticate) all | ${bare.connectSeconds.toFixed(1)} s | ${peer.connectSeconds.toFixed(1)} s | ${parley.connectSeconds.toFixed(1)} s | | | |`);
    lines.push('');
  }
  const plain = SIZES.map((n) => [find('bare', n, 1, false), find('peerjs', n, 1, false), find('parley', n, 1, false)] as const).find((trio) => trio.every(Boolean));
  if (plain) {
    const [bare, peer, parley] = plain as readonly [Result, Result, Result];
    lines.push(`**Memory per idle connection without TLS, ${fmtInt(parley.scenario.n)} clients** (plain HTTP, as behind a proxy that terminates TLS; Parley with \`TLS_OFFLOAD=1\`)`, '');
    lines.push('| measure | bare ws | PeerJS | Parley | Parley / bare ws | Parley / PeerJS | target |');
    lines.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const [what, of] of [['RSS', (r: Result) => r.rssPerConn], ['JS heap', (r: Result) => r.heapPerConn]] as const) {
      const mine = of(parley);
      lines.push(
        `| memory per idle connection, ${what} | ${fmtKb(of(bare))} | ${fmtKb(of(peer))} | ${fmtKb(mine)} | ${fmtRatio(mine / of(bare))} | ${fmtRatio(mine / of(peer))} | ≤ 6 KB: ${verdict(mine <= 6144, `${fmtKb(Math.abs(mine - 6144))} ${mine <= 6144 ? 'to spare' : 'over'}`)} |`,
      );
    }
    lines.push(`| time to connect (and authenticate) all | ${bare.connectSeconds.toFixed(1)} s | ${peer.connectSeconds.toFixed(1)} s | ${parley.connectSeconds.toFixed(1)} s | | | |`);
    lines.push('');
  }
  const redis = results.find((r) => r.scenario.processes > 1);
  const single = redis && find('parley', redis.scenario.n);
  const bareAtRedisN = redis && find('bare', redis.scenario.n);
  if (redis) {
    lines.push(`**${fmtInt(redis.scenario.n)} clients over two Parley processes (Redis bus, PostgreSQL store), every frame crossing processes**`, '');
    lines.push('| measure | Parley ×2 over Redis | vs Parley ×1 | vs bare ws ×1 |');
    lines.push('| --- | --- | --- | --- |');
    const sat = median(redis.saturation);
    lines.push(`| frames/s at saturation (median of ${PHASE.saturations}) | ${fmtInt(sat)} | ${single ? fmtRatio(sat / median(single.saturation)) : ''} | ${bareAtRedisN ? fmtRatio(sat / median(bareAtRedisN.saturation)) : ''} |`);
    lines.push(`| relay CPU time per frame at saturation (both processes) | ${median(redis.cpuPerFrame).toFixed(1)} µs | ${single ? fmtRatio(median(redis.cpuPerFrame) / median(single.cpuPerFrame)) : ''} | |`);
    // Two relays and the load generator share two cores, so frames/s cannot show scaling; what
    // the second process costs shows in the frames each CPU-second relays (issue #19: ≥ 0.7×).
    if (single) {
      const perCpu = (us: number) => 1e6 / us;
      const ratio = perCpu(median(redis.cpuPerFrame)) / perCpu(median(single.cpuPerFrame));
      lines.push(`| frames relayed per CPU-second (both processes) | ${fmtInt(perCpu(median(redis.cpuPerFrame)))} | ${fmtRatio(ratio)} (≥ 0.7×: ${ratio >= 0.7 ? 'met' : 'missed'}) | |`);
    }
    lines.push(`| memory per idle connection, RSS (both processes) | ${fmtKb(redis.rssPerConn)} | ${single ? fmtRatio(redis.rssPerConn / single.rssPerConn) : ''} | |`);
    lines.push(`| memory per idle connection, JS heap | ${fmtKb(redis.heapPerConn)} | ${single ? fmtRatio(redis.heapPerConn / single.heapPerConn) : ''} | |`);
    lines.push(`| relay latency p50 / p99 at ${fmtInt(RATE)} frames/s | ${fmtMs(redis.calm.p50)} / ${fmtMs(redis.calm.p99)} | ${single ? `${fmtRatio(redis.calm.p50 / single.calm.p50)} / ${fmtRatio(redis.calm.p99 / single.calm.p99)}` : ''} | ${bareAtRedisN ? `${fmtRatio(redis.calm.p50 / bareAtRedisN.calm.p50)} / ${fmtRatio(redis.calm.p99 / bareAtRedisN.calm.p99)}` : ''} |`);
    lines.push('');
  }
  return lines.join('\n');
}

async function main() {
  const started = performance.now();
  log(`signaling benchmark${quick ? ' (--quick)' : ''}: ${os.availableParallelism()} cores, Node ${process.version}`);
  const s = await setup();
  const results: Result[] = [];
  try {
    const scenarios: Scenario[] = [];
    for (const n of SIZES) {
      scenarios.push({ label: 'bare ws', kind: 'bare', n, processes: 1, storm: false, busy: true, tls: true });
      scenarios.push({ label: 'PeerJS', kind: 'peerjs', n, processes: 1, storm: false, busy: false, tls: true });
      scenarios.push({ label: 'Parley', kind: 'parley', n, processes: 1, storm: true, busy: true, tls: true });
    }
    for (const [label, kind] of [['bare ws', 'bare'], ['PeerJS', 'peerjs'], ['Parley', 'parley']] as const) {
      scenarios.push({ label: `${label} without TLS`, kind, n: SIZES[0]!, processes: 1, storm: false, busy: false, tls: false });
    }
    scenarios.push({ label: 'Parley ×2 over Redis', kind: 'parley', n: REDIS_N, processes: 2, storm: false, busy: false, tls: true });
    for (const scenario of scenarios) {
      // --only=bare,peerjs,parley,plain,redis runs a subset (while developing; the table needs all).
      if (only && !only.includes(scenario.processes > 1 ? 'redis' : scenario.tls ? scenario.kind : 'plain')) continue;
      results.push(await run(s, scenario));
    }
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
  const minutes = (performance.now() - started) / 60_000;
  process.stdout.write(`\n${table(results)}\nWhole run: ${minutes.toFixed(1)} min. Latency is one way, sender to recipient, both on the generator's clock.\n`);
  const lost = results.filter((r) => r.lost || r.failed || r.calm.received < r.calm.sent);
  for (const r of lost) process.stdout.write(`Note: ${r.scenario.label} at ${r.scenario.n}: ${r.failed} failed to connect, ${r.lost} saturation frames lost, ${r.calm.sent - r.calm.received} latency frames lost.\n`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
