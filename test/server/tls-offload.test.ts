// TLS_OFFLOAD: a proxy in front terminates TLS and Parley listens on plain HTTP. What must hold:
// only what the trusted proxy says came over HTTPS is served (routes and the WebSocket alike), a
// refused request changes nothing, a proxy that is not trusted is not believed, and the settings
// that belong to serving TLS here cannot be combined with it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/server/config.ts';
import { startServer, type ParleyServer } from '../../src/server/app.ts';
import { selfSignedPaths } from '../../src/server/tls/self-signed.ts';
import { wireIdentity } from '../support/identity.ts';
import { uniqueName } from '../support/server.ts';

interface Offloaded {
  server: ParleyServer;
  dataDir: string;
  close(): Promise<void>;
}

async function startOffloaded(env: Record<string, string> = {}): Promise<Offloaded> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-offload-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, BCRYPT_COST: '4', CLIENT_DIR: '', LOG_LEVEL: 'silent', SIGNUP_LIMIT_PER_IP: '1000', TLS_OFFLOAD: '1', TRUST_PROXY: '127.0.0.1', ...env });
  const server = await startServer(config, { logger: false });
  return {
    server,
    dataDir,
    close: async () => {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const HTTPS = { 'x-forwarded-proto': 'https' };

function plain(t: Offloaded, method: string, pathname: string, options: { json?: unknown; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const body = options.json === undefined ? undefined : JSON.stringify(options.json);
    const headers: Record<string, string> = { ...options.headers, ...(body ? { 'content-type': 'application/json' } : {}) };
    const req = request(`http://127.0.0.1:${t.server.port}${pathname}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: String(res.headers['content-type']).startsWith('application/json') ? JSON.parse(text) : text });
      });
    });
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

async function signupVia(t: Offloaded, headers: Record<string, string>, username = uniqueName(), password = 'long enough') {
  return { username, password, res: await plain(t, 'POST', '/api/auth/signup', { json: { username, password, identity: await wireIdentity() }, headers }) };
}

/** Opens /ws with these headers: the access token's `ready`, or the upgrade's refusal status. */
function openSocket(t: Offloaded, headers: Record<string, string>, token: string): Promise<{ ws: WebSocket; ready: true } | { status: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}/ws`, { headers });
    ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'auth', token })));
    ws.once('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'ready') resolve({ ws, ready: true });
      else reject(new Error(`expected ready, got ${data.toString()}`));
    });
  });
}

describe('TLS_OFFLOAD behind a trusted proxy', () => {
  let t: Offloaded;
  beforeAll(async () => {
    t = await startOffloaded();
  });
  afterAll(async () => {
    await t.close();
  });

  it('listens on plain HTTP and makes no certificate of its own', () => {
    expect(t.server.url).toMatch(/^http:\/\//);
    expect(existsSync(selfSignedPaths(t.dataDir).certFile)).toBe(false);
  });

  it('serves what the proxy says came over HTTPS, with the same security headers and cookie', async () => {
    const { res } = await signupVia(t, HTTPS);
    expect(res.status).toBe(201);
    expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
    expect(String(res.headers['set-cookie'])).toMatch(/^__Host-parley_refresh=[^;]+; Path=\/; .*HttpOnly; Secure; SameSite=Strict/);
  });

  it('refuses what did not come over HTTPS, and the refused request changes nothing', async () => {
    for (const headers of [{}, { 'x-forwarded-proto': 'http' }, { 'x-forwarded-proto': 'https, http' }, { 'x-forwarded-proto': '' }] as Record<string, string>[]) {
      const { username, password, res } = await signupVia(t, headers);
      expect(res.status).toBe(403);
      expect(res.body).toEqual({ error: { code: 'forbidden', message: 'Parley is served over HTTPS only: connect through its TLS proxy.' } });
      // No account was made: the same name is still free, and cannot log in.
      const login = await plain(t, 'POST', '/api/auth/login', { json: { username, password }, headers: HTTPS });
      expect(login.status).toBe(401);
      expect((await signupVia(t, HTTPS, username, password)).res.status).toBe(201);
    }
    // The nearest proxy's entry is the last one; earlier hops do not count.
    expect((await signupVia(t, { 'x-forwarded-proto': 'http, https' })).res.status).toBe(201);
  });

  it('still answers health checks and metrics over plain HTTP, for balancers and scrapers', async () => {
    expect((await plain(t, 'GET', '/healthz')).status).toBe(200);
    expect((await plain(t, 'GET', '/healthz/ready')).body).toMatchObject({ status: 'ready' });
    expect((await plain(t, 'GET', '/metrics')).status).toBe(200);
    expect((await plain(t, 'GET', '/api/contacts')).status).toBe(403);
    // Only reading them: anything else on those paths is refused like the rest.
    expect((await plain(t, 'POST', '/metrics', { json: { x: 1 } })).status).toBe(403);
    expect((await plain(t, 'GET', '/healthz/')).status).toBe(403);
  });

  it('opens the relay only to what came over HTTPS, and relays as ever', async () => {
    const alice = await signupVia(t, HTTPS);
    const bob = await signupVia(t, HTTPS);
    const aliceToken: string = alice.res.body.accessToken;
    const bobToken: string = bob.res.body.accessToken;
    expect(await openSocket(t, {}, aliceToken)).toEqual({ status: 403 });
    expect(await openSocket(t, { 'x-forwarded-proto': 'http' }, aliceToken)).toEqual({ status: 403 });
    const a = await openSocket(t, HTTPS, aliceToken);
    const b = await openSocket(t, HTTPS, bobToken);
    if (!('ws' in a) || !('ws' in b)) throw new Error('a socket was refused');
    const received = new Promise<unknown>((resolve) => b.ws.once('message', (data) => resolve(JSON.parse(data.toString()))));
    a.ws.send(JSON.stringify({ type: 'signal', to: bob.username, callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'offer', sdp: 'v=0\r\n' } }));
    expect(await received).toEqual({ type: 'signal', from: alice.username, fromDevice: '1', callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'offer', sdp: 'v=0\r\n' } });
    a.ws.close();
    b.ws.close();
  });
});

describe('TLS_OFFLOAD with a proxy that is not trusted', () => {
  it('believes no X-Forwarded-Proto from an address outside TRUST_PROXY', async () => {
    const t = await startOffloaded({ TRUST_PROXY: '10.9.9.9' });
    try {
      const { res } = await signupVia(t, HTTPS);
      expect(res.status).toBe(403);
      expect(await openSocket(t, HTTPS, 'any')).toEqual({ status: 403 });
    } finally {
      await t.close();
    }
  });
});

describe('TLS_OFFLOAD settings', () => {
  it('is off by default and takes only 1 or 0', () => {
    expect(loadConfig({}).tlsOffload).toBe(false);
    expect(loadConfig({ TLS_OFFLOAD: '0' }).tlsOffload).toBe(false);
    expect(loadConfig({ TLS_OFFLOAD: '1', TRUST_PROXY: 'loopback', HOST: '127.0.0.1' }).tlsOffload).toBe(true);
    expect(() => loadConfig({ TLS_OFFLOAD: 'yes', TRUST_PROXY: 'loopback', HOST: '127.0.0.1' })).toThrow(/TLS_OFFLOAD must be 1/);
  });

  it('needs the proxy named, and excludes the settings for serving TLS here', () => {
    expect(() => loadConfig({ TLS_OFFLOAD: '1', HOST: '10.0.0.7' })).toThrow(/TLS_OFFLOAD needs TRUST_PROXY/);
    const proxied = { TLS_OFFLOAD: '1', TRUST_PROXY: '10.0.0.2', HOST: '10.0.0.7' };
    expect(() => loadConfig({ ...proxied, TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' })).toThrow(/TLS_CERT/);
    expect(() => loadConfig({ ...proxied, ACME_DOMAINS: 'chat.example.org', ACME_EMAIL: 'ops@example.org' })).toThrow(/ACME_DOMAINS/);
    expect(() => loadConfig({ ...proxied, HTTP_REDIRECT_PORT: '8080' })).toThrow(/HTTP_REDIRECT_PORT/);
  });

  it('needs HOST chosen, and refuses a TRUST_PROXY range so wide that anyone could claim HTTPS', () => {
    expect(() => loadConfig({ TLS_OFFLOAD: '1', TRUST_PROXY: '127.0.0.1' })).toThrow(/TLS_OFFLOAD needs HOST/);
    const offloaded = { TLS_OFFLOAD: '1', HOST: '10.0.0.7' };
    expect(loadConfig({ ...offloaded, TRUST_PROXY: '10.0.0.0/8,fd00::/16,uniquelocal' }).tlsOffload).toBe(true);
    expect(() => loadConfig({ ...offloaded, TRUST_PROXY: '0.0.0.0/1,128.0.0.0/1' })).toThrow(/too wide/);
    expect(() => loadConfig({ ...offloaded, TRUST_PROXY: '::/8' })).toThrow(/too wide/);
    // Without TLS_OFFLOAD a wide range only loosens the per-address limits, as before.
    expect(loadConfig({ TRUST_PROXY: '0.0.0.0/1' }).trustProxy).toEqual(['0.0.0.0/1']);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/0', 'fd00::/129']) expect(() => loadConfig({ TRUST_PROXY: bad })).toThrow(/prefix length/);
  });
});
