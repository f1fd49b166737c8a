// Issue #6, "Hostile world": each protection as a named test that fails if it is removed.
// Everything runs against a real server (TLS, SQLite file, WebSocket) in this process.
import { connect as tlsConnect } from 'node:tls';
import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SignJWT, generateKeyPair, exportJWK } from 'jose';
import { CLOSE } from '../../src/wire/index.ts';
import { loadOrCreateSigningKeys, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/server/auth/access-tokens.ts';
import { Semaphore, Busy } from '../../src/server/auth/semaphore.ts';
import { connectAs, http, refreshCookieOf, signup, startTestServer, TestSocket, uniqueName, type TestServer } from '../support/server.ts';
import { keyUpload } from '../support/keys.ts';
import { freePort } from '../support/ports.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '10000', LOGIN_LIMIT_PER_IP: '10000', LOGIN_LIMIT_PER_USER: '10000', BUNDLE_LIMIT_PER_USER: '10000' });
});
afterAll(() => t.close());

function tlsHandshake(options: { maxVersion?: 'TLSv1.2' | 'TLSv1.3'; ciphers?: string }): Promise<{ ok: boolean; cipher?: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: t.server.port, rejectUnauthorized: false, ...options }, () => {
      resolve({ ok: true, cipher: s.getCipher().name });
      s.end();
    });
    s.on('error', () => resolve({ ok: false }));
  });
}

describe('TLS', () => {
  it('offers no CBC cipher suite under TLS 1.2, only AEAD ones', async () => {
    const cbc = await tlsHandshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:AES128-SHA256' });
    expect(cbc.ok).toBe(false);
    const gcm = await tlsHandshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    expect(gcm).toEqual({ ok: true, cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    const tls13 = await tlsHandshake({});
    expect(tls13.cipher).toMatch(/^TLS_(AES_\d+_GCM|CHACHA20_POLY1305)_SHA\d+$/);
  });

  it('serves nothing over plain HTTP or ws:// on the HTTPS port', async () => {
    const plain = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: t.server.port, path: '/healthz' }, (res) => resolve(`status ${res.statusCode}`));
      req.on('error', () => resolve('refused'));
      req.end();
    });
    expect(plain).not.toBe('status 200');
    const ws = new WebSocket(`ws://127.0.0.1:${t.server.port}/ws`);
    const outcome = await new Promise<string>((resolve) => {
      ws.on('open', () => resolve('opened'));
      ws.on('error', () => resolve('refused'));
    });
    expect(outcome).toBe('refused');
  });

  it('redirects plain HTTP to HTTPS when a redirect port is configured', async () => {
    const port = await freePort();
    const s = await startTestServer({ HTTP_REDIRECT_PORT: String(port) });
    try {
      const res = await new Promise<{ status?: number; location?: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path: '/some/page?x=1', headers: { host: 'parley.example' } }, (r) => resolve({ status: r.statusCode, location: r.headers.location }));
        req.on('error', reject);
        req.end();
      });
      expect(res).toEqual({ status: 301, location: `https://parley.example:${s.server.port}/some/page?x=1` });
    } finally {
      await s.close();
    }
  });
});

describe('JWT', () => {
  async function forge(claims: Record<string, unknown>, header: Record<string, unknown> = {}, key?: CryptoKey): Promise<string> {
    const signing = key ?? (await loadOrCreateSigningKeys(t.dataDir)).privateKey;
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT', ...header }).sign(signing);
  }
  const now = () => Math.floor(Date.now() / 1000);

  it('requires sub, iss, aud and exp', async () => {
    const { userId } = await signup(t);
    const full = { name: 'x', sub: userId, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now(), exp: now() + 60 };
    expect((await http(t, 'GET', '/api/keys', { token: await forge(full) })).status).toBe(200);
    for (const missing of ['sub', 'iss', 'aud', 'exp']) {
      const claims: Record<string, unknown> = { ...full };
      delete claims[missing];
      const res = await http(t, 'GET', '/api/keys', { token: await forge(claims) });
      expect(res.status, `without ${missing}`).toBe(401);
    }
  });

  it('ignores a key embedded in the token (jwk), and kid/jku/x5u pointing elsewhere', async () => {
    const { userId } = await signup(t);
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const claims = { name: 'x', sub: userId, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now(), exp: now() + 60 };
    const withJwk = await forge(claims, { jwk: await exportJWK(attacker.publicKey) }, attacker.privateKey);
    const withJku = await forge(claims, { jku: 'https://127.0.0.1:1/keys', kid: 'attacker', x5u: 'https://127.0.0.1:1/cert' }, attacker.privateKey);
    for (const token of [withJwk, withJku]) expect((await http(t, 'GET', '/api/keys', { token })).status).toBe(401);
  });

  it('ends every session on a password change: old access tokens, refresh cookies and sockets', async () => {
    const alice = await signup(t);
    const socket = await connectAs(t, alice.token);
    const res = await http(t, 'POST', '/api/auth/password', { token: alice.token, json: { currentPassword: 'password123', newPassword: 'a brand new passphrase' } });
    expect(res.status).toBe(200);
    expect((await socket.closed).code).toBe(CLOSE.passwordChanged);
    expect((await http(t, 'GET', '/api/keys', { token: alice.token })).status).toBe(401);
    expect((await http(t, 'POST', '/api/auth/refresh', { cookie: alice.cookie })).status).toBe(401);
    const again = new TestSocket(t);
    await again.opened();
    again.send({ type: 'auth', token: alice.token });
    expect(await again.next()).toMatchObject({ type: 'error', code: 'unauthorized' });
    // The caller's new session works, and so does the new password.
    expect((await http(t, 'GET', '/api/keys', { token: res.body.accessToken })).status).toBe(200);
    expect(refreshCookieOf(res)).toBeDefined();
    expect((await http(t, 'POST', '/api/auth/login', { json: { username: alice.username, password: 'a brand new passphrase' } })).status).toBe(200);
    expect((await http(t, 'POST', '/api/auth/login', { json: { username: alice.username, password: 'password123' } })).status).toBe(401);
  });

  it('refuses a password change with the wrong current password, changing nothing', async () => {
    const alice = await signup(t);
    const res = await http(t, 'POST', '/api/auth/password', { token: alice.token, json: { currentPassword: 'not it', newPassword: 'another passphrase' } });
    expect(res.status).toBe(401);
    expect((await http(t, 'GET', '/api/keys', { token: alice.token })).status).toBe(200);
  });
});

describe('passwords', () => {
  it('accepts 64 characters, in any script', async () => {
    for (const password of ['x'.repeat(64), '🔑'.repeat(64), 'пароль'.repeat(11)]) {
      const { username } = await signup(t, uniqueName('pw'), password);
      expect((await http(t, 'POST', '/api/auth/login', { json: { username, password } })).status).toBe(200);
    }
  });

  it('caps concurrent hashing: past the queue, callers are told to come back', async () => {
    const gate = new Semaphore(1, 1);
    let release!: () => void;
    const first = gate.run(() => new Promise<void>((r) => (release = r)));
    const second = gate.run(async () => 'queued');
    await expect(gate.run(async () => 'third')).rejects.toBeInstanceOf(Busy);
    release();
    await first;
    expect(await second).toBe('queued');
  });
});

describe('WebSocket frames', () => {
  it('answers deeply nested and prototype-polluting frames with an error, and stays up', async () => {
    const alice = await signup(t);
    const s = await connectAs(t, alice.token);
    s.send('{"type":"signal","to":"bob","callId":"AAAAAAAAAAAAAAAA","data":' + '['.repeat(10_000) + ']'.repeat(10_000) + '}');
    expect(await s.next()).toMatchObject({ type: 'error', code: 'bad_request' });
    s.send('{"type":"ping","__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}');
    expect(await s.next()).toEqual({ type: 'pong' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    s.send({ type: 'ping' });
    expect(await s.next()).toEqual({ type: 'pong' });
    s.close();
  });

  it('keeps relaying for others while one connection floods, and cuts the flooder off', async () => {
    const flooder = await connectAs(t, (await signup(t)).token);
    const alice = await signup(t);
    const bob = await signup(t);
    const a = await connectAs(t, alice.token);
    const b = await connectAs(t, bob.token);
    const flood = (async () => {
      for (let i = 0; i < 5000 && flooder.ws.readyState === WebSocket.OPEN; i++) flooder.ws.send('{"type":"ping"}');
    })();
    const received: number[] = [];
    for (let i = 0; i < 50; i++) {
      a.send({ type: 'signal', to: bob.username, callId: `call${String(i).padStart(12, '0')}`, data: { kind: 'hangup' } });
      const f = await b.next();
      if (f.type === 'signal') received.push(i);
    }
    await flood;
    expect(received).toHaveLength(50);
    expect((await flooder.closed).code).toBe(CLOSE.policy);
    a.close();
    b.close();
  });
});

describe('SQL injection', () => {
  const payloads = ["' OR '1'='1", "'; DROP TABLE users; --", 'alice"; DELETE FROM queue; --', '1) UNION SELECT password_hash FROM users --', "\\'; --", 'x%00y'];

  it('finds every field inert: no error leaks, no row changes, every table intact', async () => {
    const alice = await signup(t);
    const upload = await keyUpload({ oneTime: 2 });
    await http(t, 'PUT', '/api/keys', { token: alice.token, json: upload.body });
    const db = () => new Database(path.join(t.dataDir, 'parley.sqlite'), { readonly: true });
    const snapshot = () => {
      const d = db();
      try {
        return {
          tables: (d.prepare("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name).join(','),
          users: (d.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n,
        };
      } finally {
        d.close();
      }
    };
    const before = snapshot();
    const s = await connectAs(t, alice.token);
    for (const p of payloads) {
      for (const res of [
        await http(t, 'POST', '/api/auth/signup', { json: { username: p, password: p.padEnd(8, 'x'), identity: upload.body.identity } }),
        await http(t, 'POST', '/api/auth/login', { json: { username: p, password: p } }),
        await http(t, 'GET', `/api/users/${encodeURIComponent(p)}/bundle`, { token: alice.token }),
        await http(t, 'GET', `/api/users/${encodeURIComponent(p)}/keys`, { token: alice.token }),
        await http(t, 'POST', '/api/auth/refresh', { cookie: `__Host-parley_refresh=${encodeURIComponent(p)}` }),
      ]) {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.text).not.toMatch(/sqlite|syntax|SQL/i);
      }
      s.send({ type: 'signal', to: p, callId: 'AAAAAAAAAAAAAAAA', data: { kind: 'hangup' } });
      expect(await s.next()).toMatchObject({ type: 'error' });
      s.send({ type: 'send', to: p, id: 'AAAAAAAAAAAAAAAA', body: 'AAAA' });
      expect(await s.next()).toMatchObject({ type: 'error' });
    }
    s.close();
    expect(snapshot()).toEqual(before);
  });
});

describe('the process never dies from input', () => {
  it('survives random bytes on raw TLS connections, broken upgrades and random frames', async () => {
    for (let i = 0; i < 30; i++) {
      await new Promise<void>((resolve) => {
        const sock = tlsConnect({ host: '127.0.0.1', port: t.server.port, rejectUnauthorized: false }, () => {
          sock.write(i % 3 === 0 ? `GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(3).toString('hex')}\r\n\r\n` : randomBytes(200 + i * 10));
          setTimeout(() => sock.destroy(), 20);
        });
        sock.on('error', () => undefined);
        sock.on('close', () => resolve());
      });
    }
    const alice = await signup(t);
    const s = await connectAs(t, alice.token);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v))), async (text) => {
        s.ws.send(text);
      }),
      { numRuns: 300 },
    );
    s.ws.send(randomBytes(1000), { binary: true });
    expect((await http(t, 'GET', '/healthz')).status).toBe(200);
    const fresh = await connectAs(t, (await signup(t)).token);
    fresh.send({ type: 'ping' });
    expect(await fresh.next()).toEqual({ type: 'pong' });
    fresh.close();
  });
});
