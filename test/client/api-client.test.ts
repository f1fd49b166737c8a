// The HTTP client's answer to a refused access token: one refresh and one retry, whether the
// server said the token expired or just refused it (a process that does not hold the token's key
// yet during a rotation); never a loop. fetch is stubbed: this is the client's own logic.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, ApiError } from '../../src/client/platform/api-client.ts';

interface Call {
  path: string;
  authorization?: string;
}

const identity = null;
const sessionBody = (token: string) => ({ accessToken: token, expiresAt: Date.now() + 15 * 60_000, user: { id: 'u1', username: 'alice' }, identity });
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const refused = (code: string) => json(401, { error: { code, message: 'no' } });

/** A server whose /api/contacts accepts only `good`, and whose refresh answers from `refreshes`. */
function stubServer(good: string, refreshes: Array<() => Response>): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (path: string, init: RequestInit) => {
    const authorization = (init.headers as Record<string, string>).authorization;
    calls.push({ path, ...(authorization ? { authorization } : {}) });
    if (path === '/api/auth/refresh') return (refreshes.shift() ?? (() => refused('unauthorized')))();
    if (path === '/api/contacts') return authorization === `Bearer ${good}` ? json(200, { contacts: [] }) : refused('unauthorized');
    return json(404, { error: { code: 'not_found', message: 'Not found.' } });
  });
  return calls;
}

afterEach(() => vi.unstubAllGlobals());

describe('ApiClient and a refused access token', () => {
  it('refreshes once and retries when the server refuses a token it did not call expired', async () => {
    const calls = stubServer('B', [() => json(200, sessionBody('A')), () => json(200, sessionBody('B'))]);
    const api = new ApiClient();
    const sessions: string[] = [];
    api.onSession = (s) => sessions.push(s.accessToken);
    await api.refresh(); // signed in with token A, which this server refuses
    await expect(api.contacts()).resolves.toEqual([]);
    expect(calls.map((c) => `${c.path} ${c.authorization ?? ''}`.trim())).toEqual([
      '/api/auth/refresh',
      '/api/contacts Bearer A',
      '/api/auth/refresh',
      '/api/contacts Bearer B',
    ]);
    expect(sessions).toEqual(['A', 'B']); // the socket hears of the new token too
  });

  it('still refreshes on token_expired', async () => {
    const calls: string[] = [];
    let n = 0;
    vi.stubGlobal('fetch', async (path: string, init: RequestInit) => {
      calls.push(path);
      if (path === '/api/auth/refresh') return json(200, sessionBody(`T${++n}`));
      return (init.headers as Record<string, string>).authorization === 'Bearer T2' ? json(200, { contacts: [] }) : refused('token_expired');
    });
    const api = new ApiClient();
    await api.refresh();
    await expect(api.contacts()).resolves.toEqual([]);
    expect(calls).toEqual(['/api/auth/refresh', '/api/contacts', '/api/auth/refresh', '/api/contacts']);
  });

  it('gives up after one refresh: a login that ended fails with the refresh\'s error, and no loop', async () => {
    const calls = stubServer('never', [() => json(200, sessionBody('A'))]);
    const api = new ApiClient();
    await api.refresh();
    const error = await api.contacts().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('unauthorized');
    expect(calls.map((c) => c.path)).toEqual(['/api/auth/refresh', '/api/contacts', '/api/auth/refresh']);
  });

  it('a retry that is refused again is not retried a second time', async () => {
    const calls = stubServer('never', [() => json(200, sessionBody('A')), () => json(200, sessionBody('B'))]);
    const api = new ApiClient();
    await api.refresh();
    await expect(api.contacts()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(calls.map((c) => `${c.path} ${c.authorization ?? ''}`.trim())).toEqual([
      '/api/auth/refresh',
      '/api/contacts Bearer A',
      '/api/auth/refresh',
      '/api/contacts Bearer B',
    ]);
  });

  it('a stale token whose refresh fails is not refreshed a second time', async () => {
    const calls = stubServer('never', [() => json(200, { ...sessionBody('A'), expiresAt: Date.now() + 1_000 })]);
    const api = new ApiClient();
    await api.refresh(); // a token that expires within 30 s: the next call refreshes first
    await expect(api.contacts()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(calls.map((c) => c.path)).toEqual(['/api/auth/refresh', '/api/auth/refresh']);
  });

  it('other errors are not retried', async () => {
    const calls: string[] = [];
    vi.stubGlobal('fetch', async (path: string) => {
      calls.push(path);
      if (path === '/api/auth/refresh') return json(200, sessionBody('A'));
      return json(403, { error: { code: 'forbidden', message: 'Not allowed.' } });
    });
    const api = new ApiClient();
    await api.refresh();
    await expect(api.contacts()).rejects.toMatchObject({ code: 'forbidden' });
    expect(calls).toEqual(['/api/auth/refresh', '/api/contacts']);
  });
});
