// Structured logs (issue #5): one JSON object per line, saying which process and role wrote it,
// and never a password, token, cookie or key, even at the most verbose level.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connectAs, http, signup, startTestServer } from '../support/server.ts';

describe('server logs', () => {
  it('are JSON lines with process and role, and hold no credential even at trace level', async () => {
    const lines: string[] = [];
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const t = await startTestServer(
      { LOG_LEVEL: 'trace', TOKEN_SIGNING_KEY: JSON.stringify(key), LOGIN_LIMIT_PER_USER: '2' },
      { logger: undefined, logStream: { write: (line) => lines.push(line) } },
    );
    const secrets: string[] = [key.d!];
    try {
      const password = 'correct horse battery staple';
      secrets.push(password, 'wrong horse battery staple');
      const alice = await signup(t, undefined, password);
      const bob = await signup(t, undefined, password);
      secrets.push(alice.token, bob.token, alice.cookie.split('=')[1]!);
      const login = await http(t, 'POST', '/api/auth/login', { json: { username: alice.username, password } });
      secrets.push(login.body.accessToken);
      await http(t, 'POST', '/api/auth/login', { json: { username: alice.username, password: 'wrong horse battery staple' } });
      await http(t, 'POST', '/api/auth/login', { json: { username: alice.username, password: 'wrong horse battery staple' } }); // rate limited
      const refreshed = await http(t, 'POST', '/api/auth/refresh', { cookie: alice.cookie });
      secrets.push(refreshed.body.accessToken);
      await http(t, 'POST', '/api/auth/refresh', { cookie: alice.cookie }); // reuse of a spent token
      await http(t, 'GET', '/api/keys', { token: bob.token });
      await http(t, 'GET', '/api/keys', { token: `${bob.token}x` });
      const s = await connectAs(t, bob.token);
      s.send({ type: 'auth', token: bob.token });
      s.send('not json at all');
      await s.next();
      await http(t, 'POST', '/api/auth/logout', { cookie: bob.cookie, token: bob.token });
      await s.closed;
    } finally {
      await t.close();
    }

    expect(lines.length).toBeGreaterThan(15); // request logging is on at trace level
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({ role: 'all', pid: process.pid, hostname: expect.any(String), level: expect.any(Number), time: expect.any(Number) });
      for (const secret of secrets) expect(line, 'a credential in the log').not.toContain(secret);
      expect(line.toLowerCase()).not.toMatch(/"(authorization|cookie|set-cookie|password)"\s*:/);
    }
    expect(lines.some((l) => l.includes('/api/auth/login'))).toBe(true);
  });
});
