// The scale-out settings (issue #5): store and bus selection, the shared token key, the role
// flag. Checked at start, loudly, and without echoing anything that may be a secret.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseRole } from '../../src/server/config.ts';

const jwk = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });

describe('scale-out configuration', () => {
  it('defaults to SQLite, the in-process bus, the key file in DATA_DIR and every role', () => {
    const c = loadConfig({}, '/srv/parley');
    expect(c.database).toBeUndefined();
    expect(c.redis).toBeUndefined();
    expect(c.tokenSigningKeys).toBeUndefined();
    expect(c.role).toBe('all');
  });

  it('selects PostgreSQL and Redis by URL, with pool size, schema, prefix and presence expiry', () => {
    const c = loadConfig({
      DATABASE_URL: 'postgres://parley:secret@db.internal:5432/parley',
      DATABASE_POOL_SIZE: '25',
      DATABASE_SCHEMA: 'parley_prod',
      REDIS_URL: 'redis://cache.internal:6379/2',
      REDIS_PREFIX: 'prod:',
      PRESENCE_TTL_MS: '5000',
    });
    expect(c.database).toEqual({ url: 'postgres://parley:secret@db.internal:5432/parley', poolSize: 25, schema: 'parley_prod' });
    expect(c.redis).toEqual({ url: 'redis://cache.internal:6379/2', prefix: 'prod:', presenceTtlMs: 5000 });
    expect(loadConfig({ DATABASE_URL: 'postgresql://h/db', REDIS_URL: 'rediss://h' })).toMatchObject({
      database: { poolSize: 10, schema: undefined },
      redis: { prefix: 'parley:', presenceTtlMs: 15_000 },
    });
  });

  it('refuses bad store and bus settings without printing the URL (it may hold a password)', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ DATABASE_URL: 'mysql://root:hunter2@h/db' }, /DATABASE_URL must start with postgres:\/\//], // secretlint-disable-line -- a made-up URL: the test checks it is never printed
      [{ DATABASE_URL: 'not a url hunter2' }, /DATABASE_URL is not a valid URL/],
      [{ DATABASE_URL: 'postgres://h/db', DATABASE_POOL_SIZE: '0' }, /DATABASE_POOL_SIZE/],
      [{ DATABASE_URL: 'postgres://h/db', DATABASE_SCHEMA: 'x; DROP TABLE users' }, /DATABASE_SCHEMA/],
      [{ DATABASE_SCHEMA: 'parley' }, /needs DATABASE_URL/],
      [{ REDIS_URL: 'http://hunter2@h' }, /REDIS_URL must start with redis:\/\//],
      [{ REDIS_URL: 'redis://h', REDIS_PREFIX: 'spaces are bad' }, /REDIS_PREFIX/],
      [{ REDIS_URL: 'redis://h', PRESENCE_TTL_MS: '10' }, /PRESENCE_TTL_MS/],
    ];
    for (const [env, message] of bad) {
      let error: unknown;
      try {
        loadConfig(env);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toMatch(/hunter2/);
    }
  });

  it('takes the token signing key as JSON or from a file, and refuses anything but a private P-256 JWK without echoing it', () => {
    const key = jwk();
    expect(loadConfig({ TOKEN_SIGNING_KEY: JSON.stringify(key) }).tokenSigningKeys).toEqual([key]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-key-'));
    writeFileSync(path.join(dir, 'key.json'), JSON.stringify(key));
    expect(loadConfig({ TOKEN_SIGNING_KEY_FILE: 'key.json' }, dir).tokenSigningKeys).toEqual([key]);

    const { d: _d, ...publicOnly } = key;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ TOKEN_SIGNING_KEY: JSON.stringify(publicOnly) }, /private P-256/],
      [{ TOKEN_SIGNING_KEY: JSON.stringify(rsa) }, /private P-256/],
      [{ TOKEN_SIGNING_KEY: JSON.stringify(p384) }, /private P-256/],
      [{ TOKEN_SIGNING_KEY: `{"kty":"EC","crv":"P-256","d":"${key.d}"` }, /not valid JSON/],
      [{ TOKEN_SIGNING_KEY: JSON.stringify({ ...key, d: 'short' }) }, /private P-256/],
      [{ TOKEN_SIGNING_KEY: JSON.stringify(key), TOKEN_SIGNING_KEY_FILE: 'key.json' }, /not both/],
      [{ TOKEN_SIGNING_KEY_FILE: '/nonexistent/key.json' }, /cannot be read \(ENOENT\)/],
    ];
    for (const [env, message] of bad) {
      let error: unknown;
      try {
        loadConfig(env, dir);
      } catch (e) {
        error = e;
      }
      expect(error, Object.keys(env).join()).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(key.d);
    }
  });

  it('accepts what `npm run token-key` prints', () => {
    const res = spawnSync(process.execPath, ['scripts/generate-token-key.mjs'], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    const keys = loadConfig({ TOKEN_SIGNING_KEY: res.stdout.trim() }).tokenSigningKeys;
    expect(keys).toHaveLength(1);
    const key = keys![0];
    expect(key).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(key!.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('reads the role from --role=… or --role …, and refuses anything else', () => {
    expect(parseRole([])).toBe('all');
    expect(parseRole(['--role=api'])).toBe('api');
    expect(parseRole(['--role', 'signaling'])).toBe('signaling');
    expect(loadConfig({}, '/', ['--role=signaling']).role).toBe('signaling');
    expect(() => parseRole(['--role=both'])).toThrow(/must be one of all, api, signaling/);
    expect(() => parseRole(['--role'])).toThrow(/needs a value/);
    expect(() => parseRole(['--port=80'])).toThrow(/unknown argument/);
  });
});
