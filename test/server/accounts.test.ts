// The account service's promises that timing must not break, and the configured defaults.
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/server/config.ts';
import { createBcryptHasher, type PasswordHasher } from '../../src/server/auth/password-hasher.ts';
import { http, signup, startTestServer, uniqueName } from '../support/server.ts';

describe('password hashing', () => {
  it('defaults to bcrypt cost 12, as the design says', async () => {
    expect(loadConfig({}).bcryptCost).toBe(12);
    const hasher = createBcryptHasher(12);
    const hash = await hasher.hash('a password');
    expect(hash).toMatch(/^\$2b\$12\$/);
    expect(await hasher.verify('a password', hash)).toBe(true);
    expect(await hasher.verify('a passworD', hash)).toBe(false);
  });

  it('runs the full hash comparison for an unknown user too', async () => {
    const real = createBcryptHasher(4);
    const calls: Array<string | undefined> = [];
    const spy: PasswordHasher = {
      cost: 4,
      hash: (p) => real.hash(p),
      verify: (p, h) => {
        calls.push(h);
        return real.verify(p, h);
      },
    };
    const t = await startTestServer({}, { hasher: spy });
    try {
      const res = await http(t, 'POST', '/api/auth/login', { json: { username: uniqueName('nobody'), password: 'whatever123' } });
      expect(res.status).toBe(401);
      expect(calls).toEqual([undefined]); // verify ran, against the dummy hash
      const { username } = await signup(t);
      await http(t, 'POST', '/api/auth/login', { json: { username, password: 'wrong password' } });
      expect(calls).toHaveLength(2);
      expect(calls[1]).toMatch(/^\$2b\$04\$/);
    } finally {
      await t.close();
    }
  });
});

describe('configuration', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({}, '/srv/parley');
    expect(c.port).toBe(8443);
    expect(c.dataDir).toBe('/srv/parley/data');
    expect(c.tls).toBeUndefined();
    expect(c.accessTokenTtlSeconds).toBe(900);
  });

  it('fails loudly on bad values', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ TLS_CERT: '/a.pem' })).toThrow(/together/);
    expect(() => loadConfig({ ACCESS_TOKEN_TTL: '3600' })).toThrow(ConfigError);
    expect(() => loadConfig({ ICE_SERVERS: '{' })).toThrow(/ICE_SERVERS/);
  });
});
