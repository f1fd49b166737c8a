// The account service's promises that timing must not break, and the configured defaults.
import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/server/config.ts';
import os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { createPasswordHasher, type PasswordHasher } from '../../src/server/auth/password-hasher.ts';
import { createHashPool, HASH_THREAD_NICE } from '../../src/server/auth/hash-pool.ts';
import { http, signup, startTestServer, uniqueName } from '../support/server.ts';

describe('password hashing', () => {
  it('defaults to bcrypt cost 12, as the design says', async () => {
    expect(loadConfig({}).bcryptCost).toBe(12);
    expect(loadConfig({}).passwordHash).toBe('bcrypt');
    const hasher = createPasswordHasher({ algorithm: 'bcrypt', bcryptCost: 12 });
    const hash = await hasher.hash('a password');
    expect(hash).toMatch(/^\$2b\$12\$/);
    expect(await hasher.verify('a password', hash)).toEqual({ ok: true, needsRehash: false });
    expect((await hasher.verify('a passworD', hash)).ok).toBe(false);
  });

  it('runs the full hash comparison for an unknown user too', async () => {
    const real = createPasswordHasher({ algorithm: 'bcrypt', bcryptCost: 4 });
    const calls: Array<string | undefined> = [];
    const spy: PasswordHasher = {
      algorithm: 'bcrypt',
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

describe('hashing threads (issue #5: a login storm must not stall signaling)', () => {
  it('hashes in worker threads that run at the lowest priority, leaving the event loop\'s thread as it was', async () => {
    const before = os.getPriority(0);
    const pool = createHashPool(2);
    const hasher = createPasswordHasher({ algorithm: 'bcrypt', bcryptCost: 4, pool });
    try {
      const hash = await hasher.hash('a password');
      expect((await hasher.verify('a password', hash)).ok).toBe(true);
      // SCHED_IDLE where chrt can set it (Linux with util-linux: this machine and CI), else nice alone.
      const linux = process.platform === 'linux';
      const expected = { nice: HASH_THREAD_NICE, idle: linux ? existsSync('/usr/bin/chrt') : undefined };
      expect(await pool.priorities()).toEqual([expected, expected]);
      expect(os.getPriority(0)).toBe(before);
      if (process.platform === 'linux') {
        const mainPolicy = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1]!.split(' ')[38];
        expect(mainPolicy).toBe('0'); // SCHED_OTHER: the event loop's thread is untouched
      }
    } finally {
      await pool.close();
    }
  });

  it('keeps the event loop turning while every hashing thread is busy', async () => {
    const pool = createHashPool(2);
    const hasher = createPasswordHasher({ algorithm: 'bcrypt', bcryptCost: 10, pool });
    try {
      let turns = 0;
      let hashing = true;
      const hashes = Promise.all(Array.from({ length: 4 }, (_, i) => hasher.hash(`password ${i}`))).finally(() => (hashing = false));
      while (hashing) {
        await new Promise((r) => setImmediate(r));
        turns++;
      }
      const done = await hashes;
      expect(done.every((h) => /^\$2b\$10\$/.test(h))).toBe(true);
      expect(turns).toBeGreaterThan(20);
    } finally {
      await pool.close();
    }
  });

  it('fails a job with a clear error and keeps working afterwards', async () => {
    const pool = createHashPool(1);
    try {
      await expect(pool.run({ op: 'bcrypt-compare', input: 'x', stored: 'not a hash' })).resolves.toBe(false);
      await expect(pool.run({ op: 'bcrypt-hash', input: 'x', cost: 99 })).rejects.toThrow();
      expect(await pool.run({ op: 'bcrypt-hash', input: 'x', cost: 4 })).toMatch(/^\$2b\$04\$/);
    } finally {
      await pool.close();
    }
  });
});

describe('Argon2id', () => {
  it('hashes with OWASP\'s parameters when configured, and verifies bcrypt hashes too', async () => {
    const argon = createPasswordHasher({ algorithm: 'argon2id', bcryptCost: 4 });
    const hash = await argon.hash('a password');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await argon.verify('a password', hash)).toEqual({ ok: true, needsRehash: false });
    const fromBcrypt = await createPasswordHasher({ algorithm: 'bcrypt', bcryptCost: 4 }).hash('old');
    expect(await argon.verify('old', fromBcrypt)).toEqual({ ok: true, needsRehash: true });
    expect((await argon.verify('wrong', fromBcrypt)).ok).toBe(false);
  });

  it('upgrades a stored hash of the other kind at the next successful login', async () => {
    const { mkdtempSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-rehash-'));
    const before = await startTestServer({ DATA_DIR: dataDir });
    const { username, userId } = await signup(before);
    expect((await before.server.store.users.findById(userId))?.passwordHash).toMatch(/^\$2b\$/);
    await before.close();
    const after = await startTestServer({ DATA_DIR: dataDir, PASSWORD_HASH: 'argon2id' });
    try {
      const wrong = await http(after, 'POST', '/api/auth/login', { json: { username, password: 'not it at all' } });
      expect(wrong.status).toBe(401);
      expect((await after.server.store.users.findById(userId))?.passwordHash).toMatch(/^\$2b\$/);
      const res = await http(after, 'POST', '/api/auth/login', { json: { username, password: 'password123' } });
      expect(res.status).toBe(200);
      expect((await after.server.store.users.findById(userId))?.passwordHash).toMatch(/^\$argon2id\$/);
      expect((await http(after, 'POST', '/api/auth/login', { json: { username, password: 'password123' } })).status).toBe(200);
    } finally {
      await after.close();
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
    expect(() => loadConfig({ TURN_HOST: 'turn.example' })).toThrow(/TURN_SECRET/);
    expect(() => loadConfig({ PASSWORD_HASH: 'md5' })).toThrow(/PASSWORD_HASH/);
  });
});
