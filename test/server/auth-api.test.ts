// The account API on a real server: TLS, real SQLite file, real bcrypt (cost 4 for speed).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import path from 'node:path';
import { http, refreshCookieOf, signup, startTestServer, uniqueName, type TestServer } from '../support/server.ts';
import { wireIdentity, makeIdentity, identityToWire } from '../support/identity.ts';

let t: TestServer;
const userCount = () => {
  const db = new Database(path.join(t.dataDir, 'parley.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  t = await startTestServer({ LOGIN_LIMIT_PER_IP: '1000', SIGNUP_LIMIT_PER_IP: '1000' });
});
afterAll(() => t.close());

describe('sign up', () => {
  it('creates the account, returns a token and sets an httpOnly, Secure, SameSite=Strict refresh cookie', async () => {
    const name = uniqueName('Signup');
    const res = await http(t, 'POST', '/api/auth/signup', { json: { username: name, password: 'long enough', identity: await wireIdentity() } });
    expect(res.status).toBe(201);
    expect(res.body.user.username).toBe(name.toLowerCase());
    expect(res.body.accessToken.split('.')).toHaveLength(3);
    expect(res.body.expiresAt).toBeGreaterThan(Date.now());
    const cookie = ([] as string[]).concat(res.headers['set-cookie'] ?? []).join('\n');
    expect(cookie).toMatch(/__Host-parley_refresh=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict/);
  });

  it('treats Alice, alice and ａｌｉｃｅ as one name', async () => {
    const base = uniqueName('dup').toLowerCase();
    await signup(t, base);
    for (const variant of [base.toUpperCase(), base.replace(/[a-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0))]) {
      const res = await http(t, 'POST', '/api/auth/signup', { json: { username: variant, password: 'long enough', identity: await wireIdentity() } });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('username_taken');
    }
  });

  it('refuses bad input with a clear error and creates nothing', async () => {
    const before = userCount();
    const identity = await wireIdentity();
    const cases: Array<[unknown, number, string]> = [
      [{ username: 'ab', password: 'long enough', identity }, 400, 'invalid_username'],
      [{ username: 'аlice_cyr', password: 'long enough', identity }, 400, 'invalid_username'],
      [{ username: uniqueName(), password: 'short', identity }, 400, 'invalid_password'],
      [{ username: uniqueName(), password: 'long enough' }, 400, 'bad_request'],
      [{ username: uniqueName(), password: 'long enough', identity: { ...identity, dhKey: 'AAAA' } }, 400, 'bad_request'],
      [{ username: uniqueName(), password: 12345678, identity }, 400, 'bad_request'],
      [[1, 2, 3], 400, 'bad_request'],
      ["'; DROP TABLE users; --", 400, 'bad_request'],
      [{ username: "x'); DROP TABLE users;--", password: 'long enough', identity }, 400, 'invalid_username'],
    ];
    for (const [body, status, code] of cases) {
      const res = await http(t, 'POST', '/api/auth/signup', { json: body });
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(typeof res.body.error.message).toBe('string');
      expect(res.text).not.toMatch(/at .*\.ts:\d+/); // no stack trace
    }
    expect(userCount()).toBe(before);
  });

  it('refuses an identity whose DH key is not signed by its signing key', async () => {
    const a = identityToWire(await makeIdentity());
    const b = identityToWire(await makeIdentity());
    const res = await http(t, 'POST', '/api/auth/signup', { json: { username: uniqueName(), password: 'long enough', identity: { ...a, dhKey: b.dhKey } } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/signed/);
  });

  it('answers 413 for a huge body, 415 for a non-JSON type, 400 for broken JSON and __proto__', async () => {
    const huge = await http(t, 'POST', '/api/auth/signup', { raw: JSON.stringify({ username: 'x', password: 'y'.repeat(100_000) }) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('payload_too_large');
    const form = await http(t, 'POST', '/api/auth/login', { raw: 'username=a&password=b', contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body.error.code).toBe('unsupported_media_type');
    const broken = await http(t, 'POST', '/api/auth/login', { raw: '{"username":' });
    expect(broken.status).toBe(400);
    const proto = await http(t, 'POST', '/api/auth/login', { raw: '{"username":"a","password":"b","__proto__":{"admin":true}}' });
    expect(proto.status).toBe(400);
    expect(proto.body.error.message).toMatch(/forbidden key/);
  });

  it('accepts long passphrases in any script, and tells apart two that share their first 72 bytes', async () => {
    const prefix = 'ü'.repeat(40); // 80 UTF-8 bytes: past bcrypt's 72
    const { username } = await signup(t, uniqueName('long'), `${prefix}-one`);
    const right = await http(t, 'POST', '/api/auth/login', { json: { username, password: `${prefix}-one` } });
    expect(right.status).toBe(200);
    const wrong = await http(t, 'POST', '/api/auth/login', { json: { username, password: `${prefix}-two` } });
    expect(wrong.status).toBe(401);
  });
});

describe('log in', () => {
  it('gives an unknown user and a wrong password the same answer', async () => {
    const { username } = await signup(t);
    const wrong = await http(t, 'POST', '/api/auth/login', { json: { username, password: 'not the password' } });
    const unknown = await http(t, 'POST', '/api/auth/login', { json: { username: uniqueName('ghost'), password: 'not the password' } });
    const invalidName = await http(t, 'POST', '/api/auth/login', { json: { username: '!!', password: 'not the password' } });
    for (const r of [wrong, unknown, invalidName]) {
      expect(r.status).toBe(401);
      expect(r.body).toEqual(wrong.body);
    }
    expect(wrong.body.error.code).toBe('invalid_credentials');
  });

  it('returns the identity the server holds, for the browser to compare with its own', async () => {
    const identity = await wireIdentity();
    const username = uniqueName();
    await http(t, 'POST', '/api/auth/signup', { json: { username, password: 'password123', identity } });
    const res = await http(t, 'POST', '/api/auth/login', { json: { username, password: 'password123' } });
    expect(res.status).toBe(200);
    expect(res.body.identity).toEqual(identity);
  });
});

describe('refresh and log out', () => {
  it('rotates the refresh token, and a reused one ends the whole session family', async () => {
    const { cookie } = await signup(t);
    const first = await http(t, 'POST', '/api/auth/refresh', { cookie });
    expect(first.status).toBe(200);
    const next = refreshCookieOf(first)!;
    expect(next).not.toBe(cookie);
    // The old cookie again: someone has a copy. Both it and the new one stop working.
    const replay = await http(t, 'POST', '/api/auth/refresh', { cookie });
    expect(replay.status).toBe(401);
    const afterReplay = await http(t, 'POST', '/api/auth/refresh', { cookie: next });
    expect(afterReplay.status).toBe(401);
  });

  it('log out revokes the refresh token', async () => {
    const { cookie } = await signup(t);
    const out = await http(t, 'POST', '/api/auth/logout', { cookie });
    expect(out.status).toBe(204);
    expect(([] as string[]).concat(out.headers['set-cookie'] ?? []).join()).toMatch(/Max-Age=0/);
    const res = await http(t, 'POST', '/api/auth/refresh', { cookie });
    expect(res.status).toBe(401);
  });

  it('refuses refresh from another site', async () => {
    const { cookie } = await signup(t);
    const res = await http(t, 'POST', '/api/auth/refresh', { cookie, headers: { origin: 'https://evil.example' } });
    expect(res.status).toBe(403);
  });

  it('refuses a missing or malformed cookie', async () => {
    expect((await http(t, 'POST', '/api/auth/refresh')).status).toBe(401);
    expect((await http(t, 'POST', '/api/auth/refresh', { cookie: '__Host-parley_refresh=../../etc' })).status).toBe(401);
  });
});

describe('key directory', () => {
  it('hands out public identity keys to signed-in users only', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const anon = await http(t, 'GET', `/api/users/${bob.username}/keys`);
    expect(anon.status).toBe(401);
    const res = await http(t, 'GET', `/api/users/${bob.username.toUpperCase()}/keys`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body.username).toBe(bob.username);
    expect(Object.keys(res.body.identity).sort()).toEqual(['dhKey', 'dhKeySignature', 'signingKey']);
    const missing = await http(t, 'GET', `/api/users/${uniqueName('nobody')}/keys`, { token: alice.token });
    expect(missing.status).toBe(404);
  });

  it('refuses forged, tampered and unsigned tokens', async () => {
    const alice = await signup(t);
    const [h, p, s] = alice.token.split('.') as [string, string, string];
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${p}.`;
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'someone-else' })).toString('base64url')}.${s}`;
    for (const token of [none, forged, `${h}.${p}.${s.slice(0, -2)}AA`, 'garbage']) {
      const res = await http(t, 'GET', '/api/keys', { token });
      expect(res.status).toBe(401);
    }
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After after too many logins for one username', async () => {
    const limited = await startTestServer({ LOGIN_LIMIT_PER_USER: '3', LOGIN_LIMIT_PER_IP: '1000' });
    try {
      const { username } = await signup(limited);
      const statuses: number[] = [];
      let last;
      for (let i = 0; i < 5; i++) {
        last = await http(limited, 'POST', '/api/auth/login', { json: { username, password: 'wrong password' } });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.body.error.code).toBe('rate_limited');
    } finally {
      await limited.close();
    }
  });
});
