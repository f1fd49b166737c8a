// A load generator: a child process holding a slice of the benchmark's clients (at most a few
// thousand sockets, well under the 20,000 open files a process may have here). Clients i and
// i+1 (i even) are partners, so every relayed frame is sent and received in this process and its
// latency is read off one clock. With several origins, client i uses origin i mod k, so partners
// sit on different relay processes and frames cross between them.
//
// Phases, each a request from the benchmark: connect (open, authenticate, wait for ready);
// saturate (every pair ping-pongs one frame as fast as the relay answers, counted after a
// warm-up); latency (frames at a fixed rate, open loop, spread over all pairs); close.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import WebSocket from 'ws';
import type { JWK } from 'jose';
import { createAccessTokens, signingKeysFromJwk } from '../../src/server/auth/access-tokens.ts';
import { serveRequests } from './children.ts';
import { benchUserId, benchUserName, candidate, protocols, sentAt, type BenchUser, type Protocol, type TargetKind } from './protocols.ts';

interface Client {
  user: BenchUser;
  ws: WebSocket;
  partner: Client;
}

// One TLS context for every client: `ca` per socket would build a context per connection.
const secureContext = createSecureContext({ ca: readFileSync(process.env.TLS_CERT!) });
let protocol: Protocol;
let clients: Client[] = [];
let mode: 'idle' | 'saturate' | 'latency' = 'idle';
let counting = false;
let replying = false;
let counted = 0;
let satSent = 0;
let satReceived = 0;
let latencies: number[] = [];
let latReceived = 0;
const unexpected = new Map<string, number>();
let heartbeat: NodeJS.Timeout | undefined;

function onRelayed(receiver: Client, data: unknown): void {
  if (mode === 'saturate') {
    satReceived++;
    if (counting) counted++;
    if (replying) {
      satSent++;
      receiver.ws.send(protocol.frame(receiver.partner.user.name, candidate(performance.now())));
    }
  } else if (mode === 'latency') {
    latReceived++;
    latencies.push(performance.now() - sentAt(data));
  }
}

function note(frame: any): void {
  const key = String(frame?.type ?? 'untyped') + (frame?.code ? `:${frame.code}` : '');
  unexpected.set(key, (unexpected.get(key) ?? 0) + 1);
}

function open(user: BenchUser, url: string, headers: Record<string, string> | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { secureContext, perMessageDeflate: false, handshakeTimeout: 60_000, ...(headers ? { headers } : {}) } as WebSocket.ClientOptions);
    const timer = setTimeout(() => reject(new Error('not ready after 60 s')), 60_000);
    let ready = false;
    ws.once('open', () => {
      const hello = protocol.hello(user);
      if (hello) ws.send(hello);
      if (protocol.isReady(undefined) === 'open') {
        ready = true;
        clearTimeout(timer);
        resolve(ws);
      }
    });
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString());
      if (!ready) {
        if (protocol.isReady(frame) === true) {
          ready = true;
          clearTimeout(timer);
          resolve(ws);
        } else note(frame);
        return;
      }
      const data = protocol.relayed(frame);
      if (data === undefined) return note(frame);
      onRelayed((ws as unknown as { client: Client }).client, data);
    });
    ws.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    ws.once('close', (code) => {
      if (!ready) reject(new Error(`closed ${code} before ready`));
      else note({ type: `closed-${code}` });
    });
  });
}

/** `headers`: sent with every upgrade (without TLS, what a proxy in front would add). */
async function connect(args: { kind: TargetKind; origins: string[]; first: number; count: number; signingKey?: JWK; headers?: Record<string, string>; concurrency: number }) {
  protocol = protocols[args.kind];
  const tokens = args.signingKey ? createAccessTokens(await signingKeysFromJwk(args.signingKey), 900) : undefined;
  const users: BenchUser[] = [];
  for (let i = args.first; i < args.first + args.count; i++) {
    const name = benchUserName(i);
    const id = benchUserId(i);
    users.push({ name, id, token: tokens ? (await tokens.issue(id, name)).token : `t${i}` });
  }
  const started = performance.now();
  const sockets: (WebSocket | undefined)[] = new Array(users.length);
  if (protocol.heartbeat) {
    const beat = protocol.heartbeat;
    let k = 0;
    // From the first connection on, each socket in turn, a full round every 30 s: well inside
    // PeerJS's 90 s alive timeout even while thousands of others are still connecting.
    heartbeat = setInterval(() => {
      const slice = Math.ceil(sockets.length / 30);
      for (let j = 0; j < slice; j++) {
        const ws = sockets[k++ % sockets.length];
        if (ws?.readyState === WebSocket.OPEN) ws.send(beat);
      }
    }, 1000);
  }
  let next = 0;
  let failed = 0;
  let firstError = '';
  await Promise.all(
    Array.from({ length: args.concurrency }, async () => {
      while (next < users.length) {
        const i = next++;
        const origin = args.origins[(args.first + i) % args.origins.length]!;
        try {
          sockets[i] = await open(users[i]!, protocol.url(origin, users[i]!), args.headers);
        } catch (e) {
          failed++;
          firstError ||= e instanceof Error ? e.message : String(e);
        }
      }
    }),
  );
  clients = users.map((user, i) => ({ user, ws: sockets[i]! }) as Client);
  for (let i = 0; i + 1 < clients.length; i += 2) {
    clients[i]!.partner = clients[i + 1]!;
    clients[i + 1]!.partner = clients[i]!;
  }
  for (const c of clients) if (c.ws) (c.ws as unknown as { client: Client }).client = c;
  // Only pairs whose both ends are up take part in the load.
  clients = clients.filter((c) => c.ws && c.partner?.ws);
  return { connected: clients.length, failed, firstError, seconds: (performance.now() - started) / 1000 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function saturate(args: { warmupMs: number; measureMs: number }) {
  mode = 'saturate';
  counted = satSent = satReceived = 0;
  replying = true;
  for (let i = 0; i < clients.length; i += 2) {
    const c = clients[i]!;
    satSent++;
    c.ws.send(protocol.frame(c.partner.user.name, candidate(performance.now())));
  }
  await sleep(args.warmupMs);
  counting = true;
  const t0 = performance.now();
  await sleep(args.measureMs);
  counting = false;
  const seconds = (performance.now() - t0) / 1000;
  replying = false;
  // Let the frames still in flight arrive before the next phase.
  const until = performance.now() + 15_000;
  while (satReceived < satSent && performance.now() < until) await sleep(50);
  const lost = satSent - satReceived;
  mode = 'idle';
  return { frames: counted, seconds, lost, received: satReceived };
}

async function latency(args: { rate: number; durationMs: number }) {
  mode = 'latency';
  latencies = [];
  latReceived = 0;
  let sent = 0;
  let pair = 0;
  const pairs = Math.floor(clients.length / 2);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - t0;
      const due = Math.min(Math.floor((elapsed * args.rate) / 1000), Math.floor((args.durationMs * args.rate) / 1000));
      for (; sent < due; sent++) {
        // Alternate direction and walk over all pairs, so no connection sends often.
        const p = pair++ % pairs;
        const from = clients[2 * p + (sent & 1)]!;
        from.ws.send(protocol.frame(from.partner.user.name, candidate(performance.now())));
      }
      if (elapsed >= args.durationMs) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  const until = performance.now() + 5_000;
  while (latReceived < sent && performance.now() < until) await sleep(20);
  mode = 'idle';
  return { sent, received: latReceived, latencies };
}

serveRequests({
  connect,
  saturate,
  latency,
  unexpected: () => Object.fromEntries(unexpected),
  close: async () => {
    clearInterval(heartbeat);
    for (const c of clients) c.ws.terminate();
    return {};
  },
});
