// Debian's Chromium driven by playwright-core, with a recorder on every page that keeps what
// the page sends: HTTP bodies, WebSocket frames, and DataChannel payloads (by wrapping
// RTCDataChannel.prototype.send before any app code runs).
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

/**
 * Calls: every context gets Chromium's fake camera (a moving pattern) and microphone (a tone).
 * Permission stays per context (grant it with newContext's `media`): the fake prompt UI would
 * grant everything to everyone, and the tests need a context that is refused.
 */
export const FAKE_MEDIA_ARGS = ['--use-fake-device-for-media-stream'];

/**
 * `fakeUi`: Chromium's fake chooser answers every prompt with yes, whatever the context was
 * granted; it is the only way headless Chromium picks a screen to share.
 */
/**
 * `serviceWorkers`: trust the test server's self-signed certificate at the browser's level, as a
 * real certificate would be: Chromium registers no service worker (and so pins no code) on a
 * certificate it does not trust, whatever the context's ignoreHTTPSErrors says.
 */
export async function launchBrowser(options: { media?: boolean; fakeUi?: boolean; serviceWorkers?: boolean } = {}): Promise<Browser> {
  if (!chromiumAvailable()) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Install it with: apt-get install -y chromium`);
  }
  const args = [
    ...CHROMIUM_ARGS,
    ...(options.media ? FAKE_MEDIA_ARGS : []),
    ...(options.fakeUi ? ['--use-fake-ui-for-media-stream'] : []),
    ...(options.serviceWorkers ? ['--ignore-certificate-errors'] : []),
  ];
  return chromium.launch({ executablePath: CHROMIUM, args, headless: true });
}

export interface Recording {
  httpBodies: string[];
  wsFrames: string[];
  dataChannel: string[];
  /** Everything the page sent to anyone, as one string per item. */
  all(): string[];
}

const DATA_CHANNEL_TAP = `
(() => {
  const sent = [];
  const channels = new Set();
  Object.defineProperty(window, '__parleyDataChannelSent', { value: sent });
  // Tests cut the direct connection by closing every channel this page has sent on.
  Object.defineProperty(window, '__parleyCutChannels', { value: () => { for (const c of channels) c.close(); return channels.size; } });
  const original = RTCDataChannel.prototype.send;
  // Binary frames are kept as latin1 text, so a plaintext search would find ASCII in them.
  RTCDataChannel.prototype.send = function (data) {
    channels.add(this);
    if (typeof data === 'string') sent.push(data);
    else {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      let s = '';
      for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
      sent.push(s);
    }
    return original.call(this, data);
  };
})();
`;

// Keeps every RTCPeerConnection the page makes, so tests can read getStats() themselves rather
// than trust the app's own account of which path it took.
const PEER_CONNECTION_TAP = `
(() => {
  const list = [];
  Object.defineProperty(window, '__parleyPeerConnections', { value: list });
  window.RTCPeerConnection = new Proxy(window.RTCPeerConnection, {
    construct(target, args, newTarget) {
      const pc = Reflect.construct(target, args, newTarget);
      list.push(pc);
      return pc;
    },
  });
})();
`;

/** Lets selectedPair() and benchmarks reach the page's peer connections (no recording). */
export async function tapPeerConnections(context: BrowserContext): Promise<void> {
  await context.addInitScript(PEER_CONNECTION_TAP);
}

export async function recordedPage(context: BrowserContext): Promise<{ page: Page; recording: Recording }> {
  await context.addInitScript(DATA_CHANNEL_TAP);
  await tapPeerConnections(context);
  const page = await context.newPage();
  const recording: Recording = {
    httpBodies: [],
    wsFrames: [],
    dataChannel: [],
    all() {
      return [...this.httpBodies, ...this.wsFrames, ...this.dataChannel];
    },
  };
  // Page errors go to the test output: a failing e2e test should say what the page saw.
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  page.on('console', (m) => {
    // Failed requests are logged by the browser itself; the tests assert on those directly.
    // The service worker cannot register under the test server's self-signed certificate; the
    // app shell test runs a browser that trusts it.
    const expected = m.text().startsWith('Failed to load resource') || m.text().startsWith('An SSL certificate error occurred when fetching the script');
    if (m.type() === 'error' && !expected) console.error(`[page console] ${m.text()}`);
  });
  page.on('request', (req) => {
    const body = req.postData();
    recording.httpBodies.push(`${req.method()} ${req.url()}\n${body ?? ''}`);
  });
  page.on('websocket', (ws) => {
    ws.on('framesent', (f) => recording.wsFrames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8')));
  });
  return { page, recording };
}

/** Copies the DataChannel tap out of the page (call before closing it). */
export async function collectDataChannel(page: Page, recording: Recording): Promise<void> {
  const sent = await page.evaluate(() => (window as unknown as { __parleyDataChannelSent: string[] }).__parleyDataChannelSent.slice());
  recording.dataChannel.push(...sent);
}

/** `media`: the devices this context may use (calls); the others are refused. */
/** `serviceWorkers: 'block'` when a test routes the app's own files (a service worker would serve them past the route). */
export async function newContext(browser: Browser, options: { media?: Array<'microphone' | 'camera'>; serviceWorkers?: 'block' } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 760 }, ...(options.serviceWorkers ? { serviceWorkers: options.serviceWorkers } : {}) });
  if (options.media?.length) await context.grantPermissions(options.media);
  return context;
}

export interface CandidateSeen {
  type: string;
  protocol: string;
  relayProtocol: string | null;
  address: string | null;
}

/**
 * The candidate pair the page's newest connected RTCPeerConnection has selected, straight from
 * getStats() (RTCTransportStats.selectedCandidatePairId); null if none is connected.
 */
export async function selectedPair(page: Page): Promise<{ local: CandidateSeen; remote: CandidateSeen } | null> {
  return page.evaluate(async () => {
    const pcs = (window as unknown as { __parleyPeerConnections: RTCPeerConnection[] }).__parleyPeerConnections;
    const pc = [...pcs].reverse().find((p) => p.connectionState === 'connected');
    if (!pc) return null;
    const stats = await pc.getStats();
    let pairId: string | undefined;
    stats.forEach((s: Record<string, unknown>) => {
      if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? (stats.get(pairId) as Record<string, unknown> | undefined) : undefined;
    if (!pair) return null;
    // No named inner functions: tsx (the benchmarks) would wrap them in a helper the page lacks.
    const [local, remote] = [pair.localCandidateId, pair.remoteCandidateId].map((id) => {
      const c = stats.get(String(id)) as Record<string, unknown>;
      return { type: String(c.candidateType), protocol: String(c.protocol), relayProtocol: (c.relayProtocol as string | undefined) ?? null, address: (c.address as string | undefined) ?? null };
    });
    return { local: local!, remote: remote! };
  });
}

/** Closes the page's DataChannels, as a network cut would; returns how many were open. */
export async function cutDataChannels(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { __parleyCutChannels: () => number }).__parleyCutChannels());
}
