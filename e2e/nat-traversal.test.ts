// Issue #7: Parley connects wherever a browser can reach the server, proven on a simulated
// network (e2e/support/netns/topology.ts): Parley and coturn on a "public" segment, Alice and
// Bob in two home networks, each behind its own NAT router, Chromium running inside each home.
// The network is made and removed by this file; it needs root, and says so when it skips.
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { turnCredential } from '../src/server/ice/turn-credentials.ts';
import { accept, befriend, call as startCall, send, signUp, startChat, waitForMessage } from './support/app.ts';
import { waitFigures } from './support/call-stats.ts';
import { collectDataChannel, FAKE_MEDIA_ARGS, newContext, recordedPage, selectedPair, type Recording } from './support/browser.ts';
import { launchChromiumIn } from './support/netns/chromium.ts';
import { startCoturn, TURN_PORT, type Coturn } from './support/netns/coturn.ts';
import { ADDR, createTopology, missingTools, whyNetworkTestsCannotRun, type NatPolicy, type Role, type Topology } from './support/netns/topology.ts';
import type { ProbeRequest, ProbeResult } from './support/netns/turn-probe.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

const skipReason = await whyNetworkTestsCannotRun();
if (skipReason) console.warn(`\n[nat-traversal] SKIPPED, not passed: ${skipReason}\n`);

const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;

let t: Topology;
let coturn: Coturn;

interface Side {
  browser: Browser;
  page: Page;
  recording: Recording;
  username: string;
}

interface Scenario {
  server: ServerProcess;
  alice: Side;
  bob: Side;
  close(): Promise<void>;
}

function turnEnv(): Record<string, string> {
  return { TURN_HOST: ADDR.turn, TURN_PORT: String(TURN_PORT), TURN_TLS_PORT: '443', TURN_SECRET: coturn.secret };
}

/** Parley in the server namespace, one browser in each home, both signed up. */
async function scenario(policy: NatPolicy, serverEnv: Record<string, string>): Promise<Scenario> {
  await t.setPolicy(policy);
  const server = await startServerProcess({ HOST: ADDR.parley, PORT: '443', BCRYPT_COST: '4', ...serverEnv }, { netns: t.ns.srv });
  const sides: Side[] = [];
  const close = async () => {
    for (const s of sides) await s.browser.close().catch(() => undefined);
    await server.kill();
  };
  try {
    for (const [role, who] of [
      ['homeA', 'alice'],
      ['homeB', 'bob'],
    ] as Array<[Role, string]>) {
      const browser = await launchChromiumIn(t, role, [`--ignore-certificate-errors-spki-list=${coturn.spki}`, ...FAKE_MEDIA_ARGS]);
      const { page, recording } = await recordedPage(await newContext(browser, { media: ['microphone', 'camera'] }));
      const side = { browser, page, recording, username: name(who) };
      sides.push(side);
      await signUp(page, server.url, side.username);
    }
    return { server, alice: sides[0]!, bob: sides[1]!, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** Alice and Bob add each other and open their chat: the direct channel is set up in the background. Returns when both chats were open. */
async function connect(s: Scenario): Promise<number> {
  await befriend(s.alice.page, s.alice.username, s.bob.page, s.bob.username);
  await startChat(s.alice.page, s.bob.username);
  await startChat(s.bob.page, s.alice.username);
  return Date.now();
}

/** A voice call from Alice to Bob: sound reaches both sides. */
async function voiceCall(s: Scenario): Promise<void> {
  await startCall(s.alice.page, 'voice');
  await s.bob.page.getByRole('alertdialog', { name: 'Incoming voice call' }).waitFor({ timeout: 30_000 });
  await accept(s.bob.page);
  try {
    for (const side of [s.alice, s.bob]) await waitFigures(side.page, `sound reaching ${side.username}`, (f) => f.audioBytesIn > 5_000 && f.audioEnergyIn > 0.01, 45_000);
  } catch (e) {
    // What each side showed, so a failure here says how the call ended.
    const seen = await Promise.all(
      [s.alice, s.bob].map(async (side) => {
        const panel = await side.page.locator('.call-panel').textContent().catch(() => null);
        const notice = await side.page.locator('.notice').textContent().catch(() => null);
        const lines = await side.page.locator('.call-line').allTextContents().catch(() => []);
        return `${side.username}: panel ${JSON.stringify(panel)}, notice ${JSON.stringify(notice)}, lines ${JSON.stringify(lines)}`;
      }),
    );
    throw new Error(`${(e as Error).message}\n${seen.join('\n')}`, { cause: e });
  }
}

async function waitStatus(page: Page, text: string | RegExp, timeout = 30_000): Promise<void> {
  try {
    await page.getByRole('status').filter({ hasText: text }).first().waitFor({ timeout });
  } catch (e) {
    const status = await page.locator('.chat-status').textContent().catch(() => '(no chat)');
    const log = await page.getByRole('log', { name: 'Messages' }).textContent().catch(() => '(no log)');
    throw new Error(`status never showed ${String(text)}: status "${status}", log "${log}"`, { cause: e });
  }
}

async function chatBothWays(s: Scenario): Promise<string[]> {
  const texts = [`hello from Alice's home ${randomBytes(4).toString('hex')}`, `and from Bob's ${randomBytes(4).toString('hex')}`];
  await send(s.alice.page, texts[0]!);
  await waitForMessage(s.bob.page, texts[0]!);
  await send(s.bob.page, texts[1]!);
  await waitForMessage(s.alice.page, texts[1]!);
  return texts;
}

/** The TURN client (turn-probe.ts) run inside a namespace. */
async function probe(role: Role, req: ProbeRequest): Promise<ProbeResult> {
  const out = await t.exec(role, process.execPath, ['--import', 'tsx', 'e2e/support/netns/turn-probe.ts', JSON.stringify(req)], 30_000);
  return JSON.parse(out.trim().split('\n').pop()!) as ProbeResult;
}

/** A UDP listener inside a namespace that reports what reaches it. */
async function canary(role: Role, ip: string, port: number): Promise<{ received(): string[]; stop(): void }> {
  const code = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>console.log(JSON.stringify({from:r.address,text:String(m)})));s.bind(${port},'${ip}',()=>console.log('listening'));`;
  const child = t.spawn(role, process.execPath, ['-e', code]);
  const lines: string[] = [];
  const rl = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`canary on ${ip}:${port} did not start`)), 10_000);
    rl.on('line', (line) => {
      if (line === 'listening') {
        clearTimeout(timer);
        resolve();
      } else lines.push((JSON.parse(line) as { text: string }).text);
    });
  });
  return { received: () => lines.slice(), stop: () => void child.kill() };
}

/** The ICE username fragment of the page's newest connected peer connection: it changes with each ICE restart. */
function iceUfrag(): string | undefined {
  const pcs = (window as unknown as { __parleyPeerConnections: RTCPeerConnection[] }).__parleyPeerConnections;
  const pc = [...pcs].reverse().find((p) => p.connectionState === 'connected');
  return /a=ice-ufrag:(\S+)/.exec(pc?.localDescription?.sdp ?? '')?.[1];
}

/** Gathers candidates in the page with only relays allowed: what coturn granted, and what it refused. */
async function gatherRelay(page: Page, server: RTCIceServer): Promise<{ relays: string[]; errors: string[] }> {
  return page.evaluate(async (iceServer) => {
    const pc = new RTCPeerConnection({ iceServers: [iceServer], iceTransportPolicy: 'relay' });
    const relays: string[] = [];
    const errors: string[] = [];
    pc.onicecandidate = (e) => {
      if (e.candidate?.type === 'relay') relays.push(e.candidate.address ?? '');
    };
    pc.onicecandidateerror = (e) => errors.push(`${e.errorCode} ${e.errorText}`);
    pc.createDataChannel('probe');
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 10_000);
      pc.onicegatheringstatechange = () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    pc.close();
    return { relays, errors };
  }, server as { urls: string; username: string; credential: string });
}

describe.skipIf(Boolean(skipReason))('connecting through NATs (issue #7; network namespaces, root)', () => {
  beforeAll(async () => {
    const missing = await missingTools();
    if (missing.length) throw new Error(`The NAT traversal tests need: ${missing.join(', ')}`);
    t = await createTopology();
    coturn = await startCoturn(t);
  }, 90_000);

  afterAll(async () => {
    await coturn?.stop();
    await t?.destroy();
  }, 60_000);

  it('permissive (full-cone) NATs: the peers connect directly through both NATs, not through the relay on offer, and stay direct through an ICE restart when the callee comes back online', async () => {
    const s = await scenario('permissive', turnEnv());
    try {
      await connect(s);
      for (const side of [s.alice, s.bob]) await waitStatus(side.page, 'End-to-end encrypted · direct');
      for (const side of [s.alice, s.bob]) {
        await expect.poll(async () => (await selectedPair(side.page))?.local.type, { timeout: 15_000 }).not.toBe('relay');
        const pair = (await selectedPair(side.page))!;
        expect(pair.remote.type).not.toBe('relay');
        // The far end is the other NAT's public address: the path crosses both NATs, no relay
        // between. (Chromium hides the address of a peer-reflexive remote candidate.)
        if (pair.remote.type === 'prflx' && !pair.remote.address) continue;
        expect([ADDR.natA, ADDR.natB]).toContain(pair.remote.address);
      }
      await chatBothWays(s);

      // Bob's browser says it is back online (a network change): he asks Alice for an ICE
      // restart, both ends get new ICE credentials, and the call stays up, still direct.
      const ufrags = async () => Promise.all([s.alice.page, s.bob.page].map((p) => p.evaluate(iceUfrag)));
      const before = await ufrags();
      await s.bob.page.evaluate(() => window.dispatchEvent(new Event('online')));
      await expect.poll(async () => (await ufrags()).every((u, i) => u !== before[i]), { timeout: 10_000 }).toBe(true);
      await waitStatus(s.alice.page, 'End-to-end encrypted · direct');
      await chatBothWays(s);
    } finally {
      await s.close();
    }
  });

  it('a call on a path that starts losing packets says "Poor connection", and stops saying it when the path recovers (issue #16)', async () => {
    const s = await scenario('permissive', turnEnv());
    // 15 % of the UDP crossing Alice's router, either way, dropped at random.
    const lossy = ['FORWARD', '-p', 'udp', '-m', 'statistic', '--mode', 'random', '--probability', '0.15', '-j', 'DROP'];
    try {
      await connect(s);
      await voiceCall(s);
      const poor = (side: Side) => side.page.getByRole('region', { name: /^Call with / }).getByText('Poor connection');
      await s.alice.page.waitForTimeout(3_000);
      for (const side of [s.alice, s.bob]) expect(await poor(side).count()).toBe(0);
      await t.exec('natA', 'iptables', ['-I', ...lossy]);
      for (const side of [s.alice, s.bob]) await poor(side).waitFor({ timeout: 20_000 });
      await t.exec('natA', 'iptables', ['-D', ...lossy]);
      for (const side of [s.alice, s.bob]) await poor(side).waitFor({ state: 'detached', timeout: 20_000 });
    } finally {
      await t.exec('natA', 'iptables', ['-D', ...lossy]).catch(() => undefined);
      await s.close();
    }
  });

  it('UDP blocked between the two NATs: they connect through coturn, and the relay carries only ciphertext', async () => {
    const s = await scenario('udp-blocked-between-nats', turnEnv());
    try {
      await connect(s);
      for (const side of [s.alice, s.bob]) await waitStatus(side.page, 'End-to-end encrypted · relayed');
      const pairs = [await selectedPair(s.alice.page), await selectedPair(s.bob.page)];
      for (const pair of pairs) expect([pair?.local.type, pair?.remote.type]).toContain('relay');
      const texts = await chatBothWays(s);
      for (const side of [s.alice, s.bob]) {
        await collectDataChannel(side.page, side.recording);
        expect(side.recording.dataChannel.length).toBeGreaterThan(0);
        for (const text of texts) expect(side.recording.dataChannel.join('\n')).not.toContain(text);
      }
      // Issue #16: a voice call takes the same way through coturn, and carries sound.
      await voiceCall(s);
      for (const side of [s.alice, s.bob]) {
        const f = await waitFigures(side.page, 'a relayed pair', (x) => x.localCandidate !== null);
        expect([f.localCandidate, f.remoteCandidate]).toContain('relay');
      }
    } finally {
      await s.close();
    }
  });

  it('the network changes mid-call: the direct path dies, the UI says it is reconnecting, an ICE restart finds the relay that has come back, and the chat goes on', async () => {
    // At first coturn cannot be reached (a STUN-only server stands in for address discovery),
    // so the call is direct with no relay standing by: only a new gathering can find one.
    const stun = await startCoturn(t, { listen: ADDR.stun, tlsPort: 5349, relayPorts: '49500-49520' });
    const turnUnreachable = ['INPUT', '-d', ADDR.turn, '-j', 'DROP'];
    await t.exec('srv', 'iptables', ['-I', ...turnUnreachable]);
    const s = await scenario('permissive', { ...turnEnv(), STUN_URLS: `stun:${ADDR.stun}:${TURN_PORT}` });
    try {
      await connect(s);
      for (const side of [s.alice, s.bob]) await waitStatus(side.page, 'End-to-end encrypted · direct');
      await chatBothWays(s);
      expect((await selectedPair(s.alice.page))?.local.type).not.toBe('relay');

      await t.exec('srv', 'iptables', ['-D', ...turnUnreachable]);
      await t.setPolicy('udp-blocked-between-nats');
      await waitStatus(s.alice.page, `Reconnecting to ${s.bob.username}… · messages go through the server meanwhile`, 15_000);
      // Written while there is no path: it goes through the server and still arrives.
      const meanwhile = `written while reconnecting ${randomBytes(4).toString('hex')}`;
      await send(s.alice.page, meanwhile);
      await waitForMessage(s.bob.page, meanwhile);

      for (const side of [s.alice, s.bob]) await waitStatus(side.page, 'End-to-end encrypted · relayed', 20_000);
      for (const side of [s.alice, s.bob]) {
        const pair = await selectedPair(side.page);
        expect([pair?.local.type, pair?.remote.type]).toContain('relay');
      }
      // The same call, on the same encrypted channel: nothing ended.
      expect(await s.alice.page.getByText(/left the call|was lost|Cannot reach/).count()).toBe(0);
      await chatBothWays(s);
    } finally {
      await s.close();
      await t.exec('srv', 'iptables', ['-D', ...turnUnreachable]).catch(() => undefined);
      await stun.stop();
    }
  });

  it('only TCP port 443 open to the outside: they connect through TURN over TLS on 443', async () => {
    const s = await scenario('tcp-443-only', turnEnv());
    try {
      await connect(s);
      for (const side of [s.alice, s.bob]) await waitStatus(side.page, 'End-to-end encrypted · relayed');
      for (const side of [s.alice, s.bob]) {
        const pair = await selectedPair(side.page);
        expect(pair?.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
      }
      await chatBothWays(s);
      // Issue #16: a voice call through TURN over TLS on 443 carries sound too.
      await voiceCall(s);
      for (const side of [s.alice, s.bob]) {
        const pair = await selectedPair(side.page);
        expect(pair?.local).toMatchObject({ type: 'relay', relayProtocol: 'tls' });
      }
    } finally {
      await s.close();
    }
  });

  it('no TURN configured and no direct path: both sides say so plainly within 15 seconds, and messages go through the server', async () => {
    const s = await scenario('udp-blocked-between-nats', { STUN_URLS: `stun:${ADDR.turn}:${TURN_PORT}` });
    try {
      const openedAt = await connect(s);
      await Promise.all([
        waitStatus(s.alice.page, `Cannot reach ${s.bob.username} directly · messages go through the server`, 15_000),
        waitStatus(s.bob.page, `Cannot reach ${s.alice.username} directly · messages go through the server`, 15_000),
      ]);
      expect(Date.now() - openedAt).toBeLessThan(15_000);
      expect(await selectedPair(s.alice.page)).toBeNull();
      await chatBothWays(s);
    } finally {
      await s.close();
    }
  });

  it('TURN credentials expire: coturn refuses an old or altered one, and takes the fresh one Parley hands out', async () => {
    const s = await scenario('permissive', turnEnv());
    try {
      const fresh = await s.alice.page.evaluate(async (username) => {
        const login = await fetch('/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'correct horse battery' }) });
        const { accessToken } = (await login.json()) as { accessToken: string };
        const res = await fetch('/api/ice', { headers: { authorization: `Bearer ${accessToken}` } });
        return (await res.json()) as { iceServers: Array<{ urls: string[]; username?: string; credential?: string }>; expiresAt: number };
      }, s.alice.username);
      const turn = fresh.iceServers.find((x) => x.username)!;
      const [expiry, userId] = turn.username!.split(':') as [string, string];
      expect(Number(expiry) * 1000).toBe(fresh.expiresAt);
      expect(fresh.expiresAt - Date.now()).toBeGreaterThan(3500_000);
      const expired = turnCredential(coturn.secret, userId, Date.now() - 3_600_000 - 60_000, 3600);
      expect(expired.expiresAt).toBeLessThan(Date.now());
      const server = { host: ADDR.turn, port: TURN_PORT };

      // The TURN protocol itself, from Alice's home.
      const old = await probe('homeA', { server, username: expired.username, password: expired.credential, peers: [] });
      expect(old.allocate).toMatchObject({ ok: false, code: 401 });
      const altered = await probe('homeA', { server, username: `${expiry}:someone-else`, password: turn.credential!, peers: [] });
      expect(altered.allocate).toMatchObject({ ok: false, code: 401 });
      const ok = await probe('homeA', { server, username: turn.username!, password: turn.credential!, peers: [] });
      expect(ok.allocate).toMatchObject({ ok: true, relayed: expect.stringMatching(new RegExp(`^${ADDR.turn.replace(/\./g, '\\.')}:\\d+$`)) });

      // And Chromium, given each of them.
      const udpUrl = `turn:${ADDR.turn}:${TURN_PORT}?transport=udp`;
      const refused = await gatherRelay(s.alice.page, { urls: udpUrl, username: expired.username, credential: expired.credential });
      expect(refused.relays).toEqual([]);
      expect(refused.errors.join()).toMatch(/401/);
      const granted = await gatherRelay(s.alice.page, { urls: udpUrl, username: turn.username!, credential: turn.credential! });
      expect(granted.relays).toEqual([ADDR.turn]);
    } finally {
      await s.close();
    }
  });

  it("coturn refuses to relay to loopback and to the server's private segment, and relays to the internet", async () => {
    // No port forwarding on natB, so the control canary on its public address gets what arrives there.
    await t.setPolicy('udp-blocked-between-nats');
    const port = 9999;
    const targets = {
      privateHost: await canary('priv', ADDR.operatorPrivateHost, port),
      serverPrivate: await canary('srv', ADDR.operatorLan, port),
      loopback: await canary('srv', '127.0.0.1', port),
      internet: await canary('natB', ADDR.natB, port),
    };
    const cred = turnCredential(coturn.secret, 'probe-user', Date.now(), 600);
    try {
      const result = await probe('homeA', {
        server: { host: ADDR.turn, port: TURN_PORT },
        username: cred.username,
        password: cred.credential,
        peers: [
          { ip: ADDR.operatorPrivateHost, port, text: 'to the private host' },
          { ip: ADDR.operatorLan, port, text: "to the server's private address" },
          { ip: '127.0.0.1', port, text: 'to loopback' },
          { ip: '0.0.0.0', port, text: 'to 0.0.0.0' },
          { ip: ADDR.natB, port, text: 'to the internet' },
        ],
      });
      expect(result.allocate.ok).toBe(true);
      const permit = Object.fromEntries(result.peers.map((p) => [p.ip, p.permit]));
      for (const ip of [ADDR.operatorPrivateHost, ADDR.operatorLan, '127.0.0.1', '0.0.0.0']) {
        expect(permit[ip], ip).toMatchObject({ ok: false, code: 403 });
      }
      expect(permit[ADDR.natB]).toEqual({ ok: true });
      // The control arrives; nothing arrives anywhere else.
      await expect.poll(() => targets.internet.received(), { timeout: 5_000 }).toEqual(['to the internet']);
      expect(targets.privateHost.received()).toEqual([]);
      expect(targets.serverPrivate.received()).toEqual([]);
      expect(targets.loopback.received()).toEqual([]);
    } finally {
      for (const c of Object.values(targets)) c.stop();
    }
  });
});
