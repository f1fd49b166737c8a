// The key directory on a real server and SQLite file (issue #3).
import Database from 'better-sqlite3';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyBundle } from '../../src/protocol/prekeys.ts';
import { http, signup, startTestServer, uniqueName, type TestServer } from '../support/server.ts';
import { bundleFromWire, keyUpload } from '../support/keys.ts';
import { identityToWire } from '../support/identity.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000', BUNDLE_LIMIT_PER_USER: '1000' });
});
afterAll(() => t.close());

async function userWithKeys(oneTime = 10) {
  const user = await signup(t);
  const upload = await keyUpload({ oneTime });
  const res = await http(t, 'PUT', '/api/keys', { token: user.token, json: upload.body });
  expect(res.status).toBe(200);
  return { ...user, ...upload };
}

describe('key directory', () => {
  it('publishes a bundle whose signatures the client verifies', async () => {
    const bob = await userWithKeys(3);
    const alice = await signup(t);
    const res = await http(t, 'GET', `/api/users/${bob.username}/bundle`, { token: alice.token });
    expect(res.status).toBe(200);
    expect(res.body.identity).toEqual(bob.body.identity);
    expect(res.body.oneTimePreKey.id).toBe(1);
    await verifyBundle(bundleFromWire(res.body));
  });

  it('hands out each one-time prekey exactly once, even to concurrent fetches', async () => {
    const bob = await userWithKeys(40);
    const fetchers = await Promise.all(Array.from({ length: 4 }, () => signup(t)));
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) => http(t, 'GET', `/api/users/${bob.username}/bundle`, { token: fetchers[i % 4]!.token })),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    const ids = results.map((r) => r.body.oneTimePreKey?.id).filter((id) => id !== undefined);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    const status = await http(t, 'GET', '/api/keys', { token: bob.token });
    expect(status.body.oneTimePreKeys).toBe(0);
  });

  it('counts and refills one-time prekeys, ignoring ids it already has', async () => {
    const bob = await userWithKeys(5);
    const more = await keyUpload({ identity: bob.identity, oneTime: 10, firstOneTimeId: 3 });
    const res = await http(t, 'POST', '/api/keys/one-time', { token: bob.token, json: { oneTimePreKeys: more.body.oneTimePreKeys } });
    expect(res.status).toBe(200);
    expect(res.body.oneTimePreKeys).toBe(12); // ids 1–12
    expect((await http(t, 'GET', '/api/keys', { token: bob.token })).body).toMatchObject({ oneTimePreKeys: 12, signedPreKeyId: 1, pqPreKeyId: 1 });
  });

  it('replaces the signed prekey on rotation, keeping the one-time prekeys', async () => {
    const bob = await userWithKeys(4);
    const rotated = await keyUpload({ identity: bob.identity, oneTime: 0, spkId: 2 });
    expect((await http(t, 'PUT', '/api/keys', { token: bob.token, json: rotated.body })).status).toBe(200);
    const alice = await signup(t);
    const bundle = (await http(t, 'GET', `/api/users/${bob.username}/bundle`, { token: alice.token })).body;
    expect(bundle.signedPreKey.id).toBe(2);
    expect(bundle.oneTimePreKey.id).toBe(1);
  });

  it('drops every prekey of the old identity when a new device publishes a new one', async () => {
    const bob = await userWithKeys(5);
    const fresh = await keyUpload({ oneTime: 2, firstOneTimeId: 100 });
    expect((await http(t, 'PUT', '/api/keys', { token: bob.token, json: fresh.body })).status).toBe(200);
    const alice = await signup(t);
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const b = (await http(t, 'GET', `/api/users/${bob.username}/bundle`, { token: alice.token })).body;
      expect(b.identity).toEqual(fresh.body.identity);
      if (b.oneTimePreKey) ids.push(b.oneTimePreKey.id);
    }
    expect(ids).toEqual([100, 101]);
  });

  it('refuses keys not signed by the identity, malformed keys and oversized lists, storing nothing', async () => {
    const bob = await signup(t);
    const good = await keyUpload({ oneTime: 2 });
    const other = await keyUpload({ oneTime: 1 });
    const cases: Array<[unknown, RegExp]> = [
      [{ ...good.body, signedPreKey: other.body.signedPreKey }, /signedPreKey/],
      [{ ...good.body, pqPreKey: other.body.pqPreKey }, /pqPreKey/],
      [{ ...good.body, signedPreKey: { ...good.body.signedPreKey, id: 9 } }, /signedPreKey/],
      [{ ...good.body, identity: { ...good.body.identity, dhKey: other.body.identity.dhKey } }, /identity/],
      [{ ...good.body, oneTimePreKeys: [good.body.oneTimePreKeys[0], good.body.oneTimePreKeys[0]] }, /unique/],
      [{ ...good.body, oneTimePreKeys: Array.from({ length: 101 }, (_, i) => ({ ...good.body.oneTimePreKeys[0]!, id: i + 1 })) }, /at most 100/],
      [{ ...good.body, signedPreKey: { ...good.body.signedPreKey, id: 0 } }, /id/],
      [{ ...good.body, pqPreKey: { ...good.body.pqPreKey, publicKey: 'AAAA' } }, /pqPreKey/],
    ];
    for (const [body, message] of cases) {
      const res = await http(t, 'PUT', '/api/keys', { token: bob.token, json: body });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.message).toMatch(message);
    }
    const status = await http(t, 'GET', '/api/keys', { token: bob.token });
    expect(status.body).toMatchObject({ signedPreKeyId: null, oneTimePreKeys: 0 });
    const huge = await http(t, 'PUT', '/api/keys', { token: bob.token, raw: JSON.stringify({ pad: 'x'.repeat(70_000) }) });
    expect(huge.status).toBe(413);
  });

  it('answers 404 alike for an unknown user and one without keys, and 401 without a token', async () => {
    const alice = await signup(t);
    const noKeys = await signup(t);
    const a = await http(t, 'GET', `/api/users/${uniqueName('ghost')}/bundle`, { token: alice.token });
    const b = await http(t, 'GET', `/api/users/${noKeys.username}/bundle`, { token: alice.token });
    expect(a.status).toBe(404);
    expect(b.body).toEqual(a.body);
    expect((await http(t, 'GET', `/api/users/${noKeys.username}/bundle`)).status).toBe(401);
  });

  it('limits bundle fetches per user so nobody can drain a contact\'s one-time prekeys fast', async () => {
    const limited = await startTestServer({ BUNDLE_LIMIT_PER_USER: '3' });
    try {
      const bob = await signup(limited);
      const upload = await keyUpload({ oneTime: 10 });
      await http(limited, 'PUT', '/api/keys', { token: bob.token, json: upload.body });
      const alice = await signup(limited);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await http(limited, 'GET', `/api/users/${bob.username}/bundle`, { token: alice.token })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('keeps only public halves and signatures in the database', async () => {
    await userWithKeys(2);
    const db = new Database(path.join(t.dataDir, 'parley.sqlite'), { readonly: true });
    try {
      const columns = (table: string) => (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
      expect(columns('signed_prekeys')).toEqual(['user_id', 'device_id', 'spk_id', 'spk_public', 'spk_signature', 'pqk_id', 'pqk_public', 'pqk_signature', 'updated_at']);
      expect(columns('one_time_prekeys')).toEqual(['user_id', 'device_id', 'key_id', 'public_key']);
      const pq = db.prepare('SELECT length(pqk_public) AS n FROM signed_prekeys LIMIT 1').get() as { n: number };
      expect(pq.n).toBe(1184); // an ML-KEM-768 public key; a secret key would be 2400
    } finally {
      db.close();
    }
  });

  it('signup identity and published identity are the same thing', async () => {
    const bob = await userWithKeys(1);
    const res = await http(t, 'POST', '/api/auth/login', { json: { username: bob.username, password: 'password123' } });
    expect(res.body.identity).toEqual(identityToWire(bob.identity));
  });
});
