// Issue #20: token signing keys rotate without logging anyone out. TOKEN_SIGNING_KEYS is a
// list: the first key signs, every key verifies, and each token names its key by `kid`; a kid
// the server does not hold is refused, even when its signature would check under one of its
// keys. A token from before kids (v1) is only ever checked against the signing key.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SignJWT, calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair, type JWK } from 'jose';
import { loadConfig } from '../../src/server/config.ts';
import { createAccessTokens, signingKeysFromJwks, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/server/auth/access-tokens.ts';
import { http, signup, startTestServer } from '../support/server.ts';

async function newKey(kid?: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return kid ? { ...jwk, kid } : jwk;
}

describe('token signing key rotation (issue #20)', () => {
  it('signs with the first key, verifies with all, names the key by kid, and refuses an unknown kid', async () => {
    const a = await newKey('key-2026-11');
    const b = await newKey(); // no kid: named by its RFC 7638 thumbprint
    const old = createAccessTokens(await signingKeysFromJwks([a]), 900);
    const { token: fromA } = await old.issue('user-1', 'alice');
    expect(decodeProtectedHeader(fromA).kid).toBe('key-2026-11');

    const rotated = createAccessTokens(await signingKeysFromJwks([b, a]), 900);
    expect((await rotated.verify(fromA)).ok).toBe(true); // nobody logged out
    const { token: fromB } = await rotated.issue('user-1', 'alice');
    expect(decodeProtectedHeader(fromB).kid).toBe(await calculateJwkThumbprint({ kty: b.kty!, crv: b.crv!, x: b.x!, y: b.y! }));

    const retired = createAccessTokens(await signingKeysFromJwks([b]), 900);
    expect(await retired.verify(fromA)).toEqual({ ok: false, reason: 'invalid' });
    expect((await retired.verify(fromB)).ok).toBe(true);

    // Signed by the server's own key, but naming a kid it does not hold, or A's kid: refused.
    const rings = await signingKeysFromJwks([b]);
    const now = Math.floor(Date.now() / 1000);
    const forge = (header: Record<string, string>) =>
      new SignJWT({ name: 'alice' }).setProtectedHeader({ alg: 'ES256', typ: 'JWT', ...header }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('user-1').setIssuedAt(now).setExpirationTime(now + 60).sign(rings.privateKey);
    expect(await retired.verify(await forge({ kid: 'nobody' }))).toEqual({ ok: false, reason: 'invalid' });
    expect(await retired.verify(await forge({ kid: 'key-2026-11' }))).toEqual({ ok: false, reason: 'invalid' });
    // Without kid (a token from before this change): the signing key's, and only its.
    expect((await retired.verify(await forge({}))).ok).toBe(true);
    const aSigns = await signingKeysFromJwks([a, b]);
    const noKidFromB = await new SignJWT({ name: 'alice' }).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setIssuer(TOKEN_ISSUER).setAudience(TOKEN_AUDIENCE).setSubject('user-1').setIssuedAt(now).setExpirationTime(now + 60).sign(rings.privateKey);
    expect(await createAccessTokens(aSigns, 900).verify(noKidFromB)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('keeps several processes accepting each other\'s tokens through the documented three-step rotation', async () => {
    // docs/deploy.md: add the new key second everywhere, then put it first everywhere, then drop
    // the old one. Between steps, processes run different lists; each must accept every token
    // any other issues, or a browser balanced to another process is refused mid-session.
    const a = await newKey('a');
    const b = await newKey('b');
    const proc = async (keys: JWK[]) => createAccessTokens(await signingKeysFromJwks(keys), 900);
    const steps: JWK[][][] = [
      [[a], [a, b]], // step 1 under way: one process restarted with b as a verifier
      [[a, b], [b, a]], // step 2 under way: one process signs with b
      [[b, a], [b]], // step 3 under way, after the access tokens' lifetime
    ];
    for (const [i, lists] of steps.entries()) {
      const [p, q] = await Promise.all(lists.map(proc));
      const fromP = (await p!.issue('user-1', 'alice')).token;
      const fromQ = (await q!.issue('user-1', 'alice')).token;
      expect((await p!.verify(fromQ)).ok, `step ${i + 1}`).toBe(true);
      expect((await q!.verify(fromP)).ok, `step ${i + 1}`).toBe(true);
    }
    // Skipping step 1 is what logs people out: a process still on [a] refuses b's tokens.
    const fromNew = (await (await proc([b, a])).issue('user-1', 'alice')).token;
    expect(await (await proc([a])).verify(fromNew)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('rotates on a running deployment: a token from the old key works after the rotation, and not once the key is dropped', async () => {
    const a = await newKey('a');
    const b = await newKey('b');
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-rotation-'));
    const serve = (keys: JWK[]) => startTestServer({ DATA_DIR: dataDir, TOKEN_SIGNING_KEYS: JSON.stringify(keys) });
    let t = await serve([a]);
    const alice = await signup(t);
    await t.close();

    t = await serve([b, a]);
    expect((await http(t, 'GET', '/api/contacts', { token: alice.token })).status).toBe(200);
    const bob = await signup(t);
    expect(decodeProtectedHeader(bob.token).kid).toBe('b');
    await t.close();

    t = await serve([b]);
    expect((await http(t, 'GET', '/api/contacts', { token: alice.token })).status).toBe(401);
    expect((await http(t, 'GET', '/api/contacts', { token: bob.token })).status).toBe(200);
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reads TOKEN_SIGNING_KEYS (or its file) as a list, and refuses a bad one without echoing a key', async () => {
    const a = await newKey('a');
    const b = await newKey();
    expect(loadConfig({ TOKEN_SIGNING_KEYS: JSON.stringify([a, b]) }).tokenSigningKeys).toEqual([a, b]);
    expect(loadConfig({ TOKEN_SIGNING_KEY: JSON.stringify(a) }).tokenSigningKeys).toEqual([a]);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-keys-'));
    try {
      writeFileSync(path.join(dir, 'keys.json'), JSON.stringify([b, a]));
      expect(loadConfig({ TOKEN_SIGNING_KEYS_FILE: 'keys.json' }, dir).tokenSigningKeys).toEqual([b, a]);
      writeFileSync(path.join(dir, 'bad.json'), JSON.stringify([a, { ...b, crv: 'P-384' }]));
      expect(() => loadConfig({ TOKEN_SIGNING_KEYS_FILE: 'bad.json' }, dir)).toThrow(/TOKEN_SIGNING_KEYS_FILE: key 2 must be a private P-256/);
      expect(() => loadConfig({ TOKEN_SIGNING_KEYS_FILE: 'missing.json' }, dir)).toThrow(/TOKEN_SIGNING_KEYS_FILE cannot be read \(ENOENT\)/);
      expect(() => loadConfig({ TOKEN_SIGNING_KEYS_FILE: 'keys.json', TOKEN_SIGNING_KEYS: JSON.stringify([a]) }, dir)).toThrow(/not both/);
      expect(() => loadConfig({ TOKEN_SIGNING_KEYS_FILE: 'keys.json', TOKEN_SIGNING_KEY: JSON.stringify(a) }, dir)).toThrow(/TOKEN_SIGNING_KEYS .* or TOKEN_SIGNING_KEY .*not both/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig(env);
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    };
    expect(refused({ TOKEN_SIGNING_KEYS: JSON.stringify(a) })).toMatch(/JSON array of 1–16/);
    expect(refused({ TOKEN_SIGNING_KEYS: '[]' })).toMatch(/JSON array of 1–16/);
    expect(refused({ TOKEN_SIGNING_KEYS: JSON.stringify([a, { ...b, d: undefined }]) })).toMatch(/key 2 must be a private P-256/);
    expect(refused({ TOKEN_SIGNING_KEYS: JSON.stringify([a, { ...b, kid: 'a' }]) })).toMatch(/same "kid"/);
    expect(refused({ TOKEN_SIGNING_KEYS: JSON.stringify([a]), TOKEN_SIGNING_KEY: JSON.stringify(a) })).toMatch(/not both/);
    expect(refused({ TOKEN_SIGNING_KEYS: `[${JSON.stringify(a)}` })).toMatch(/not valid JSON/);
    expect(refused({ TOKEN_SIGNING_KEYS: JSON.stringify([a, { ...b, kid: 'two words' }]) })).toMatch(/key 2 has a "kid" that is not 1–128 printable/);
    expect(refused({ TOKEN_SIGNING_KEYS: JSON.stringify([{ ...a, kid: 7 }]) })).toMatch(/key 1 has a "kid"/);
    for (const env of [{ TOKEN_SIGNING_KEYS: JSON.stringify([a, { ...b, d: 'short' }]) }, { TOKEN_SIGNING_KEYS: `[${JSON.stringify(a)}` }]) {
      expect(refused(env)).not.toContain(a.d!);
    }
  });
});
