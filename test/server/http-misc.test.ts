import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { http, startTestServer, type TestServer } from '../support/server.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('every response', () => {
  it('carries the security headers, also on errors', async () => {
    for (const res of [await http(t, 'GET', '/api/keys'), await http(t, 'GET', '/api/nothing-here'), await http(t, 'POST', '/api/auth/login', { raw: '{' })]) {
      expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(res.headers['content-security-policy']).toMatch(/object-src 'none'/);
      expect(res.headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(res.headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      // Calls (issue #16): camera, microphone and screen for this origin only; nothing else.
      expect(res.headers['permissions-policy']).toMatch(/camera=\(self\), microphone=\(self\), display-capture=\(self\)/);
      expect(res.headers['permissions-policy']).toMatch(/geolocation=\(\)/);
      expect(res.headers['x-xss-protection']).toBe('0');
    }
  });

  it('answers unknown API paths with a JSON 404', async () => {
    const res = await http(t, 'GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
  });

  it('no longer serves a static ICE configuration to anyone who asks (issue #7: GET /api/ice, signed in)', async () => {
    expect((await http(t, 'GET', '/api/config')).status).toBe(404);
  });
});
