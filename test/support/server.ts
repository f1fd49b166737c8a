// A real Parley server in this process for integration tests: real SQLite file in a temp
// folder, real TLS on a free port, real WebSocket. Only bcrypt's cost is lowered (to 4) so a
// suite can create dozens of accounts; the cost-12 default has its own test.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../../src/server/config.ts';
import { startServer, type ParleyServer, type ServerOverrides } from '../../src/server/app.ts';
import { selfSignedPaths } from '../../src/server/tls/self-signed.ts';
import type { ServerFrame } from '../../src/wire/index.ts';
import { wireIdentity } from './identity.ts';

export interface TestServer {
  server: ParleyServer;
  base: string;
  wsUrl: string;
  ca: Buffer;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}, overrides: ServerOverrides = {}, argv: string[] = []): Promise<TestServer> {
  // A folder made here is removed on close; one passed in as DATA_DIR belongs to the caller.
  const ownDir = env.DATA_DIR === undefined;
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'parley-test-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, BCRYPT_COST: '4', CLIENT_DIR: '', LOG_LEVEL: 'silent', ...env }, process.cwd(), argv);
  const server = await startServer(config, { logger: false, ...overrides });
  const base = `https://127.0.0.1:${server.port}`;
  const ca = config.tls ? readFileSync(config.tls.certFile) : readFileSync(selfSignedPaths(dataDir).certFile);
  const close = async () => {
    await server.close();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return { server, base, wsUrl: `wss://127.0.0.1:${server.port}/ws`, ca, dataDir, close };
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
  text: string;
}

export function http(
  t: TestServer,
  method: string,
  pathname: string,
  options: { json?: unknown; raw?: string | Buffer; contentType?: string; token?: string; cookie?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    let payload: string | Buffer | undefined;
    if (options.json !== undefined) {
      payload = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.raw !== undefined) {
      payload = options.raw;
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    if (options.contentType) headers['content-type'] = options.contentType;
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.cookie) headers.cookie = options.cookie;
    const req = httpsRequest(`${t.base}${pathname}`, { method, headers, ca: t.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export function refreshCookieOf(res: HttpResult): string | undefined {
  const raw = res.headers['set-cookie'];
  const line = (Array.isArray(raw) ? raw : raw ? [raw] : []).find((c) => c.startsWith('__Host-parley_refresh='));
  return line?.split(';')[0];
}

let counter = 0;
export function uniqueName(prefix = 'user'): string {
  counter++;
  return `${prefix}_${process.pid}_${counter}_${Math.random().toString(36).slice(2, 6)}`.slice(0, 32);
}

export async function signup(t: TestServer, username = uniqueName(), password = 'password123'): Promise<{ username: string; token: string; userId: string; cookie: string; res: HttpResult }> {
  const res = await http(t, 'POST', '/api/auth/signup', { json: { username, password, identity: await wireIdentity() } });
  if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${res.text}`);
  return { username: res.body.user.username, token: res.body.accessToken, userId: res.body.user.id, cookie: refreshCookieOf(res)!, res };
}

/** A WebSocket client that queues frames so tests can await them in order. */
export class TestSocket {
  readonly ws: WebSocket;
  /** The `ready` frame, once connectAs has seen it. */
  ready: Extract<ServerFrame, { type: 'ready' }> | undefined;
  private readonly frames: ServerFrame[] = [];
  private readonly waiters: Array<(f: ServerFrame | undefined) => void> = [];
  private isClosed = false;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(t: TestServer, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(t.wsUrl, { ca: t.ca, headers });
    this.ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      const w = this.waiters.shift();
      if (w) w(frame);
      else this.frames.push(frame);
    });
    this.ws.on('error', () => {});
    this.closed = new Promise((resolve) =>
      this.ws.on('close', (code, reason) => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w(undefined);
        resolve({ code, reason: reason.toString() });
      }),
    );
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve();
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The next frame; rejects if none comes within the timeout or the socket closes first. */
  next(timeoutMs = 5000): Promise<ServerFrame> {
    const queued = this.frames.shift();
    if (queued) return Promise.resolve(queued);
    if (this.isClosed) return Promise.reject(new Error('socket closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame within timeout')), timeoutMs);
      this.waiters.push((f) => {
        clearTimeout(timer);
        if (f) resolve(f);
        else reject(new Error('socket closed'));
      });
    });
  }

  /** Resolves true if no frame arrives within `ms`. */
  async silentFor(ms: number): Promise<boolean> {
    if (this.frames.length) return false;
    return new Promise((resolve) => {
      const waiter = (f: ServerFrame | undefined) => {
        if (f) this.frames.unshift(f);
        resolve(!f);
      };
      this.waiters.push(waiter);
      setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          resolve(true);
        }
      }, ms);
    });
  }

  close(): void {
    this.ws.close();
  }
}

export async function connectAs(t: TestServer, token: string): Promise<TestSocket> {
  const s = new TestSocket(t);
  await s.opened();
  s.send({ type: 'auth', token });
  const ready = await s.next();
  if (ready.type !== 'ready') throw new Error(`expected ready, got ${JSON.stringify(ready)}`);
  s.ready = ready;
  return s;
}
