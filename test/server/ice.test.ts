// Issue #7: ICE configuration from the server, per user per request, with TURN credentials in
// the TURN REST API scheme, and settings that fail loudly at start.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/server/config.ts';
import { loadIceSettings } from '../../src/server/ice/ice-settings.ts';
import { turnCredential } from '../../src/server/ice/turn-credentials.ts';
import { checkIceUrl, iceConfigResponse, parseWith } from '../../src/wire/index.ts';
import { http, signup, startTestServer, type TestServer } from '../support/server.ts';

const SECRET = 'a-secret-shared-with-coturn-of-32+chars';

describe('TURN REST API credentials (issue #7)', () => {
  it('match an HMAC-SHA1 computed independently with openssl', () => {
    // printf '%s' '1700003600:user-1' | openssl dgst -sha1 -hmac 'a-secret-shared-with-coturn-of-32+chars' -binary | base64
    const c = turnCredential(SECRET, 'user-1', 1_700_000_000_500, 3600);
    expect(c).toEqual({ username: '1700003600:user-1', credential: 'x/PTjHsB6HYnurmWazUsnScm/78=', expiresAt: 1_700_003_600_000 });
  });

  it('refuse a user id that would break the username format', () => {
    expect(() => turnCredential(SECRET, 'a:b', 0, 60)).toThrow();
    expect(() => turnCredential(SECRET, '', 0, 60)).toThrow();
  });
});

describe('ICE URLs', () => {
  it('accept stun:, turn: and turns: with host, port and transport', () => {
    for (const url of ['stun:stun.example.org', 'stun:192.0.2.1:3478', 'turn:turn.example.org:3478?transport=udp', 'turn:[2001:db8::1]:3478?transport=tcp', 'turns:turn.example.org:443?transport=tcp', 'turns:turn.example.org']) {
      expect(checkIceUrl(url), url).toMatchObject({ ok: true });
    }
  });

  it('refuse anything else, saying why', () => {
    for (const url of ['http://turn.example.org', 'turn:', 'turn:host:0', 'turn:host:70000', 'stun:host?transport=udp', 'turns:host:443?transport=udp', 'turn:host name', 'turn:-bad-.example', 'turn:host?transport=sctp', 'turn:host?transport=udp?transport=udp', 'turn:host:3478:3478', 'turn:a..b', 'turn:[::1', 'turn:fe80::1', `turn:${'a'.repeat(300)}`]) {
      expect(checkIceUrl(url), url).toMatchObject({ ok: false });
    }
  });
});

describe('ICE settings from the environment', () => {
  it('has no STUN and no TURN by default', () => {
    expect(loadConfig({}).ice).toEqual({ stunUrls: [], turn: undefined });
  });

  it('makes UDP, TCP and TLS-on-443 URLs from TURN_HOST, with coturn as the STUN server, for an hour', () => {
    expect(loadIceSettings({ TURN_HOST: 'turn.example.org', TURN_SECRET: SECRET })).toEqual({
      stunUrls: ['stun:turn.example.org:3478'],
      turn: {
        urls: ['turn:turn.example.org:3478?transport=udp', 'turn:turn.example.org:3478?transport=tcp', 'turns:turn.example.org:443?transport=tcp'],
        secret: SECRET,
        ttlSeconds: 3600,
      },
    });
    const custom = loadIceSettings({ TURN_HOST: '2001:db8::5', TURN_PORT: '3479', TURN_TLS_PORT: '0', TURN_SECRET: SECRET, STUN_URLS: '', TURN_TTL_SECONDS: '600' });
    expect(custom.stunUrls).toEqual([]);
    expect(custom.turn).toEqual({ urls: ['turn:[2001:db8::5]:3479?transport=udp', 'turn:[2001:db8::5]:3479?transport=tcp'], secret: SECRET, ttlSeconds: 600 });
  });

  it('takes TURN_URLS and STUN_URLS as comma-separated lists', () => {
    const s = loadIceSettings({ TURN_URLS: 'turn:a.example:3478?transport=udp, turns:b.example:443?transport=tcp', TURN_SECRET: SECRET, STUN_URLS: 'stun:s1.example,stun:s2.example:19302' });
    expect(s.stunUrls).toEqual(['stun:s1.example', 'stun:s2.example:19302']);
    expect(s.turn?.urls).toEqual(['turn:a.example:3478?transport=udp', 'turns:b.example:443?transport=tcp']);
  });

  it('fails loudly on every inconsistent or unsafe setting', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ TURN_HOST: 'turn.example.org' }, /TURN_SECRET must be set/],
      [{ TURN_HOST: 'turn.example.org', TURN_SECRET: 'short' }, /at least 32 characters/],
      [{ TURN_HOST: 'turn.example.org', TURN_SECRET: `${SECRET} x` }, /without spaces/],
      [{ TURN_SECRET: SECRET }, /no TURN server is/],
      [{ TURN_TTL_SECONDS: '600' }, /no TURN server is/],
      [{ TURN_PORT: '3478' }, /need TURN_HOST/],
      [{ TURN_HOST: 'a.example', TURN_URLS: 'turn:b.example', TURN_SECRET: SECRET }, /not both/],
      [{ TURN_HOST: 'a.example', TURN_SECRET: SECRET, TURN_TTL_SECONDS: '30' }, /TURN_TTL_SECONDS/],
      [{ TURN_HOST: 'a.example', TURN_SECRET: SECRET, TURN_TTL_SECONDS: '1.5' }, /TURN_TTL_SECONDS/],
      [{ TURN_HOST: 'a.example', TURN_SECRET: SECRET, TURN_PORT: '0' }, /TURN_PORT/],
      [{ TURN_HOST: 'bad host', TURN_SECRET: SECRET }, /TURN_HOST/],
      [{ TURN_URLS: 'stun:a.example', TURN_SECRET: SECRET }, /TURN_URLS.*not a turn/],
      [{ TURN_URLS: 'https://a.example', TURN_SECRET: SECRET }, /TURN_URLS/],
      [{ STUN_URLS: 'turn:a.example' }, /STUN_URLS.*not a stun/],
      [{ ICE_SERVERS: '[{"urls":"turn:a.example","username":"u","credential":"static"}]' }, /ICE_SERVERS is no longer read/],
    ];
    for (const [env, message] of bad) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
    }
  });
});

describe('GET /api/ice (issue #7)', () => {
  let t: TestServer;
  let plain: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ TURN_HOST: 'turn.parley.test', TURN_SECRET: SECRET, TURN_TTL_SECONDS: '600' });
    plain = await startTestServer({ STUN_URLS: 'stun:stun.parley.test:3478', ICE_LIMIT_PER_USER: '3' });
  });
  afterAll(async () => {
    await t?.close();
    await plain?.close();
  });

  it('needs a signed-in user', async () => {
    const res = await http(t, 'GET', '/api/ice');
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('unauthorized');
    expect((await http(t, 'GET', '/api/ice', { token: 'not-a-token' })).status).toBe(401);
  });

  it('gives each user a credential of their own that coturn can check, expiring after the TTL, never cached', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const before = Date.now();
    const a = await http(t, 'GET', '/api/ice', { token: alice.token });
    const b = await http(t, 'GET', '/api/ice', { token: bob.token });
    expect(a.status).toBe(200);
    expect(a.headers['cache-control']).toBe('no-store');
    const parsed = parseWith(iceConfigResponse, a.body);
    expect(parsed.ok).toBe(true);
    expect(a.body.iceServers[0]).toEqual({ urls: ['stun:turn.parley.test:3478'] });
    const turn = a.body.iceServers[1];
    expect(turn.urls).toEqual(['turn:turn.parley.test:3478?transport=udp', 'turn:turn.parley.test:3478?transport=tcp', 'turns:turn.parley.test:443?transport=tcp']);
    const [expiry, userId] = turn.username.split(':');
    expect(userId).toBe(alice.userId);
    expect(Number(expiry) * 1000).toBe(a.body.expiresAt);
    expect(a.body.expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect(a.body.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(turn.credential).toBe(createHmac('sha1', SECRET).update(turn.username).digest('base64'));
    expect(b.body.iceServers[1].username.endsWith(`:${bob.userId}`)).toBe(true);
    expect(b.body.iceServers[1].credential).not.toBe(turn.credential);
    // The secret itself never leaves the server.
    expect(a.text).not.toContain(SECRET);
  });

  it('gives only STUN, and no expiry, when no TURN server is configured', async () => {
    const carol = await signup(plain);
    const res = await http(plain, 'GET', '/api/ice', { token: carol.token });
    expect(res.body).toEqual({ iceServers: [{ urls: ['stun:stun.parley.test:3478'] }], expiresAt: null });
  });

  it('mints credentials for a user only at a call-like pace, and another user is not held back', async () => {
    const dave = await signup(plain);
    const erin = await signup(plain);
    for (let i = 0; i < 3; i++) expect((await http(plain, 'GET', '/api/ice', { token: dave.token })).status).toBe(200);
    const limited = await http(plain, 'GET', '/api/ice', { token: dave.token });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await http(plain, 'GET', '/api/ice', { token: erin.token })).status).toBe(200);
  });
});
