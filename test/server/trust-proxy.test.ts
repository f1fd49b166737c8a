// Behind a load balancer every request comes from the balancer's address. TRUST_PROXY names the
// balancers whose X-Forwarded-For is believed, so the per-address limits see the real clients;
// from anyone else the header is ignored, or a client could pick a fresh address per attempt.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.ts';
import { http, startTestServer, uniqueName, type TestServer } from '../support/server.ts';
import { wireIdentity } from '../support/identity.ts';

const signupFrom = async (t: TestServer, forwardedFor: string) =>
  (await http(t, 'POST', '/api/auth/signup', { json: { username: uniqueName(), password: 'long enough', identity: await wireIdentity() }, headers: { 'x-forwarded-for': forwardedFor } })).status;

describe('TRUST_PROXY', () => {
  it('ignores X-Forwarded-For by default', async () => {
    const t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1' });
    try {
      expect(await signupFrom(t, '198.51.100.1')).toBe(201);
      expect(await signupFrom(t, '198.51.100.2')).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('counts each forwarded client separately when the balancer is trusted', async () => {
    const t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1', TRUST_PROXY: '127.0.0.1' });
    try {
      expect(await signupFrom(t, '198.51.100.1')).toBe(201);
      expect(await signupFrom(t, '198.51.100.2')).toBe(201);
      expect(await signupFrom(t, '198.51.100.1')).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('takes addresses, ranges and proxy-addr names, and refuses anything else', () => {
    expect(loadConfig({ TRUST_PROXY: '10.0.0.5, 10.1.0.0/16,loopback,::1' }).trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', 'loopback', '::1']);
    expect(loadConfig({}).trustProxy).toEqual([]);
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => loadConfig({ TRUST_PROXY: '*' })).toThrow(/TRUST_PROXY/);
  });
});
