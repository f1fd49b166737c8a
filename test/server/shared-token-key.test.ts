// TOKEN_SIGNING_KEY (issue #5): processes given the same key accept each other's access tokens;
// without it each process keeps its own key file in DATA_DIR and trusts only itself.
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, http, signup, startTestServer, TestSocket, type TestServer } from '../support/server.ts';

const key = JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }));
const servers: TestServer[] = [];
const start = async (env: Record<string, string>) => {
  const t = await startTestServer(env);
  servers.push(t);
  return t;
};
afterAll(async () => {
  for (const t of servers) await t.close();
});

describe('a token signing key shared by configuration', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const keyFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-key-')), 'token-key.json');
    writeFileSync(keyFile, key, { mode: 0o600 });
    // One shared database, as processes behind a load balancer have (tokens are checked against
    // the account too: it must exist, and the token must not predate a password change).
    const shared = mkdtempSync(path.join(os.tmpdir(), 'parley-shared-'));
    a = await start({ TOKEN_SIGNING_KEY: key, DATA_DIR: shared });
    b = await start({ TOKEN_SIGNING_KEY_FILE: keyFile, DATA_DIR: shared });
  });

  it('makes a token from one process good on the other, for the API and the WebSocket', async () => {
    const alice = await signup(a);
    expect((await http(b, 'GET', '/api/users/nobody_here/keys', { token: alice.token })).status).toBe(404);
    const s = await connectAs(b, alice.token);
    s.close();
  });

  it('writes no key file into DATA_DIR when the key comes from configuration', () => {
    expect(existsSync(path.join(a.dataDir, 'token-signing-key.jwk.json'))).toBe(false);
  });

  it('is not trusted by a process with its own key', async () => {
    const own = await start({});
    expect(existsSync(path.join(own.dataDir, 'token-signing-key.jwk.json'))).toBe(true);
    const alice = await signup(a);
    expect((await http(own, 'GET', '/api/users/nobody_here/keys', { token: alice.token })).status).toBe(401);
    const s = new TestSocket(own);
    await s.opened();
    s.send({ type: 'auth', token: alice.token });
    expect(await s.next()).toMatchObject({ type: 'error', code: 'unauthorized' });
  });
});
