// Process roles (issue #5): --role=api serves the HTTP API and the client, --role=signaling the
// WebSocket relay; both serve health and metrics. Here an API process and a signaling process
// share one DATA_DIR (the SQLite file and the key file), the smallest split deployment.
import { mkdtempSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAs, http, signup, startTestServer, TestSocket, type TestServer } from '../support/server.ts';
import { spawnServer, withoutScaleOut } from '../support/server-process.ts';

let api: TestServer;
let relay: TestServer;
beforeAll(async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-roles-'));
  api = await startTestServer({ DATA_DIR: dataDir, SIGNUP_LIMIT_PER_IP: '1000' }, {}, ['--role=api']);
  relay = await startTestServer({ DATA_DIR: dataDir }, {}, ['--role=signaling']);
});
afterAll(async () => {
  await relay?.close();
  await api?.close();
});

describe('--role=api', () => {
  it('serves the API, health and metrics, and no WebSocket', async () => {
    const alice = await signup(api);
    expect((await http(api, 'GET', '/api/ice', { token: alice.token })).status).toBe(200);
    expect((await http(api, 'GET', '/api/keys', { token: alice.token })).status).toBe(200);
    expect((await http(api, 'GET', '/healthz')).status).toBe(200);
    expect((await http(api, 'GET', '/healthz/ready')).status).toBe(200);
    expect((await http(api, 'GET', '/metrics')).text).toMatch(/parley_info\{role="api"\} 1/);
    const s = new TestSocket(api);
    await expect(s.opened()).rejects.toThrow(/404/);
  });
});

describe('--role=signaling', () => {
  it('relays between users signed up through the API process, and serves no API', async () => {
    const alice = await signup(api);
    const bob = await signup(api);
    const a = await connectAs(relay, alice.token);
    const b = await connectAs(relay, bob.token);
    a.send({ type: 'signal', to: bob.username, callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'offer', sdp: 'v=0\r\n' } });
    expect(await b.next()).toMatchObject({ type: 'signal', from: alice.username });
    a.send({ type: 'send', to: bob.username, id: 'BBBBBBBBBBBBBBBBBBBBBB', body: Buffer.from('queued').toString('base64url') });
    expect(await a.next()).toEqual({ type: 'sent', id: 'BBBBBBBBBBBBBBBBBBBBBB' });
    expect(await b.next()).toMatchObject({ type: 'envelope', from: alice.username });
    a.close();
    b.close();
  });

  it('applies a block made through the API process to the very next frame and queued message, with no Redis to announce it', async () => {
    const alice = await signup(api);
    const mallory = await signup(api);
    const a = await connectAs(relay, alice.token);
    const m = await connectAs(relay, mallory.token);
    const offer = { type: 'signal', to: alice.username, callId: 'CCCCCCCCCCCCCCCCCCCCCC', data: { kind: 'offer', sdp: 'v=0\r\n' } };
    m.send(offer);
    expect(await a.next()).toMatchObject({ type: 'signal', from: mallory.username });
    m.send({ type: 'send', to: alice.username, id: 'DDDDDDDDDDDDDDDDDDDDD1', body: 'AAAA' });
    expect(await m.next()).toEqual({ type: 'sent', id: 'DDDDDDDDDDDDDDDDDDDDD1' });
    expect(await a.next()).toMatchObject({ type: 'envelope', from: mallory.username });
    expect((await http(api, 'PUT', `/api/contacts/${mallory.username}`, { token: alice.token, json: { state: 'blocked' } })).status).toBe(204);
    m.send(offer);
    expect(await m.next()).toMatchObject({ type: 'error', code: 'peer_unavailable' });
    m.send({ type: 'send', to: alice.username, id: 'DDDDDDDDDDDDDDDDDDDDD2', body: 'AAAA' });
    expect(await m.next()).toEqual({ type: 'sent', id: 'DDDDDDDDDDDDDDDDDDDDD2' }); // not told
    expect(await a.silentFor(300)).toBe(true);
    a.close();
    m.close();
  });

  it('answers 404 for the API and the client, and serves health and metrics', async () => {
    for (const [method, p] of [['GET', '/api/ice'], ['POST', '/api/auth/signup'], ['GET', '/api/keys'], ['GET', '/']] as const) {
      const res = await http(relay, method, p, method === 'POST' ? { json: {} } : {});
      expect(res.status, p).toBe(404);
      expect(res.body.error.code).toBe('not_found');
    }
    expect((await http(relay, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await http(relay, 'GET', '/healthz/ready')).status).toBe(200);
    expect((await http(relay, 'GET', '/metrics')).text).toMatch(/parley_info\{role="signaling"\} 1/);
  });
});

describe('the --role flag on the command line', () => {
  it('starts the chosen role and says so', async () => {
    const server = await spawnServer(mkdtempSync(path.join(os.tmpdir(), 'parley-role-flag-')), {}, ['--role=signaling']);
    try {
      expect(server.output()).toMatch(/Parley is running at https:\/\/\S+ \(role: signaling\)/);
      expect((await http(server, 'GET', '/api/ice')).status).toBe(404);
      expect((await http(server, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await server.kill();
    }
  }, 40_000);

  it('refuses an unknown role before opening a port', () => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/server/main.ts', '--role=everything'], {
      env: { ...withoutScaleOut(process.env), PORT: '0', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'parley-role-bad-')) },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(res.status).toBe(2);
    expect(res.stderr).toMatch(/Configuration error: --role must be one of all, api, signaling/);
  }, 40_000);
});
