// Issue #20: /metrics no longer answers whoever reaches the port. With neither METRICS_TOKEN
// nor METRICS_ALLOW it answers loopback only (and does not exist for anyone else); a token asks
// for `Authorization: Bearer …`; an allow list names the scrapers' addresses; with both, both
// are needed. Clients from elsewhere are staged as a trusted proxy's X-Forwarded-For, which is
// how the server sees them behind a balancer.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/server/config.ts';
import { metricsGate } from '../../src/server/metrics/metrics-access.ts';
import { http, startTestServer, type TestServer } from '../support/server.ts';

const TOKEN = 'a-scraper-token-0123456789';

async function scrape(t: TestServer, from?: string, token?: string): Promise<{ status: number; text: string; auth: string | undefined }> {
  const headers: Record<string, string> = {};
  if (from) headers['x-forwarded-for'] = from;
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await http(t, 'GET', '/metrics', { headers });
  return { status: res.status, text: res.text, auth: res.headers['www-authenticate'] as string | undefined };
}

async function withServer(env: Record<string, string>, body: (t: TestServer) => Promise<void>): Promise<void> {
  const t = await startTestServer({ TRUST_PROXY: '127.0.0.1', ...env });
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

describe('/metrics access (issue #20)', () => {
  it('answers loopback only when neither METRICS_TOKEN nor METRICS_ALLOW is set, and is not there for anyone else', async () => {
    await withServer({}, async (t) => {
      const local = await scrape(t);
      expect(local.status).toBe(200);
      expect(local.text).toContain('parley_info');
      const remote = await scrape(t, '203.0.113.5');
      expect(remote.status).toBe(404);
      expect(remote.text).not.toContain('parley_');
    });
  });

  it('does not count a request a proxy forwarded as loopback, even when no TRUST_PROXY names the proxy', async () => {
    // A proxy on the same host (nginx without TRUST_PROXY) connects from 127.0.0.1 for everyone;
    // the header it adds is what shows the request is not a local scraper's.
    const t = await startTestServer();
    try {
      expect((await scrape(t)).status).toBe(200);
      const sample: Record<string, string> = { forwarded: 'for=203.0.113.5', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'chat.example', via: '1.1 nginx' };
      for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host', 'via', 'x-client-ip', 'true-client-ip']) {
        const res = await http(t, 'GET', '/metrics', { headers: { [header]: sample[header] ?? '203.0.113.5' } });
        expect(res.status, header).toBe(404);
        expect(res.text).not.toContain('parley_');
      }
    } finally {
      await t.close();
    }
    // Behind a trusted proxy, a scraper on the proxy's own host is forwarded too: not local.
    await withServer({}, async (t2) => expect((await scrape(t2, '127.0.0.1')).status).toBe(404));
  });

  it('asks for the bearer token when METRICS_TOKEN is set, from anywhere, loopback included', async () => {
    await withServer({ METRICS_TOKEN: TOKEN }, async (t) => {
      const none = await scrape(t);
      expect(none.status).toBe(401);
      expect(none.auth).toBe('Bearer');
      expect((await scrape(t, undefined, `${TOKEN}x`)).status).toBe(401);
      expect((await scrape(t, undefined, TOKEN.slice(0, -1))).status).toBe(401);
      expect((await scrape(t, '203.0.113.5', TOKEN)).status).toBe(200);
      expect((await scrape(t, undefined, TOKEN)).text).toContain('parley_info');
    });
  });

  it('answers only the addresses in METRICS_ALLOW, and with a token set too, needs both', async () => {
    await withServer({ METRICS_ALLOW: '203.0.113.0/24, 2001:db8::/32' }, async (t) => {
      expect((await scrape(t, '203.0.113.5')).status).toBe(200);
      expect((await scrape(t, '2001:db8::7')).status).toBe(200);
      expect((await scrape(t, '198.51.100.1')).status).toBe(403);
      expect((await scrape(t)).status).toBe(403); // loopback is not in the list
    });
    await withServer({ METRICS_ALLOW: '203.0.113.5', METRICS_TOKEN: TOKEN }, async (t) => {
      expect((await scrape(t, '203.0.113.5', TOKEN)).status).toBe(200);
      expect((await scrape(t, '203.0.113.5')).status).toBe(401);
      expect((await scrape(t, '203.0.113.6', TOKEN)).status).toBe(403);
    });
  });

  it('refuses a malformed METRICS_ALLOW or a short METRICS_TOKEN at start, without echoing the token', () => {
    expect(() => loadConfig({ METRICS_ALLOW: '10.0.0.0/8, nonsense' })).toThrow(/METRICS_ALLOW.*"nonsense"/);
    expect(() => loadConfig({ METRICS_ALLOW: '10.0.0.0/33' })).toThrow(/prefix length must be 0–32/);
    expect(() => loadConfig({ METRICS_ALLOW: '10.0.0.0/8/1' })).toThrow(/METRICS_ALLOW/);
    let message = '';
    try {
      loadConfig({ METRICS_TOKEN: 'short secret' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/METRICS_TOKEN must be/);
    expect(message).not.toContain('short secret');
    expect(loadConfig({ METRICS_ALLOW: '10.0.0.0/8,::1', METRICS_TOKEN: TOKEN }).metrics).toEqual({ token: TOKEN, allow: ['10.0.0.0/8', '::1'] });
  });

  it('reads an IPv4 address written as IPv6 as the IPv4 one', () => {
    const loopbackOnly = metricsGate({ token: undefined, allow: [] });
    expect(loopbackOnly('::ffff:127.0.0.1', undefined, false)).toBe('ok');
    expect(loopbackOnly('::1', undefined, false)).toBe('ok');
    expect(loopbackOnly('::ffff:10.0.0.1', undefined, false)).toBe('hidden');
    expect(metricsGate({ token: undefined, allow: ['10.0.0.0/8'] })('::ffff:10.0.0.1', undefined, false)).toBe('ok');
  });
});
