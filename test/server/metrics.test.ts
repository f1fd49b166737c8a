// /metrics in the Prometheus text format (issue #5): connections, frames relayed, queue depth,
// login latency. The first part checks the exposition writer; the second a real server after
// real traffic.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from '../../src/server/metrics/registry.ts';
import { connectAs, http, signup, startTestServer, type TestServer } from '../support/server.ts';

/** Every line of a scrape is a comment or `name{labels} value`, and each family is declared once. */
function parseExposition(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.trimEnd().split('\n')) {
    const typeLine = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (typeLine) {
      expect(types.has(typeLine[1]!), `TYPE twice for ${typeLine[1]}`).toBe(false);
      types.set(typeLine[1]!, typeLine[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* \S/.test(line)) continue;
    // eslint-disable-next-line security/detect-unsafe-regex -- parses our own /metrics output in a test
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*\})? (\S+)$/.exec(line);
    expect(sample, `not an exposition line: ${line}`).not.toBeNull();
    const family = sample![1]!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(sample![1]!) || types.get(family) === 'histogram', `sample before its TYPE: ${line}`).toBe(true);
    samples.set(`${sample![1]}${sample![2] ?? ''}`, Number(sample![3]));
  }
  return samples;
}

describe('the exposition writer', () => {
  it('writes counters, labelled gauges and cumulative histogram buckets', async () => {
    const r = new Registry();
    const c = r.add(new Counter('t_events_total', 'Events.\nTwo lines, a \\ too.'));
    r.add(new Gauge('t_info', 'Info.', () => 1, { role: 'a"b' }));
    const h = r.add(new Histogram('t_seconds', 'Durations.', [0.1, 1]));
    c.inc();
    c.inc(2);
    c.inc(-5); // counters never go down
    for (const v of [0.05, 0.1, 0.5, 3, Number.NaN]) h.observe(v);
    const text = await r.expose();
    expect(text).toContain('# HELP t_events_total Events.\\nTwo lines, a \\\\ too.\n');
    const s = parseExposition(text);
    expect(s.get('t_events_total')).toBe(3);
    expect(s.get('t_info{role="a\\"b"}')).toBe(1);
    expect(s.get('t_seconds_bucket{le="0.1"}')).toBe(2); // a value on a bound counts in that bucket
    expect(s.get('t_seconds_bucket{le="1"}')).toBe(3);
    expect(s.get('t_seconds_bucket{le="+Inf"}')).toBe(4);
    expect(s.get('t_seconds_count')).toBe(4);
    expect(s.get('t_seconds_sum')).toBeCloseTo(3.65);
  });

  it('leaves out a gauge whose source fails, and keeps the rest of the page', async () => {
    const r = new Registry();
    r.add(new Gauge('t_broken', 'Broken.', () => Promise.reject(new Error('database away'))));
    r.add(new Gauge('t_fine', 'Fine.', () => 7));
    const s = parseExposition(await r.expose());
    expect(s.has('t_broken')).toBe(false);
    expect(s.get('t_fine')).toBe(7);
  });

  it('refuses bad names, duplicate names and unordered buckets', () => {
    const r = new Registry();
    expect(() => r.add(new Counter('bad-name', 'x'))).toThrow();
    r.add(new Counter('ok_total', 'x'));
    expect(() => r.add(new Counter('ok_total', 'x'))).toThrow(/twice/);
    expect(() => new Histogram('h', 'x', [1, 0.5])).toThrow(/increase/);
  });
});

describe('/metrics on a server', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ SIGNUP_LIMIT_PER_IP: '1000', LOGIN_LIMIT_PER_IP: '1000' });
  });
  afterAll(() => t.close());

  it('counts connections, relayed frames, accepted envelopes, queue depth and log-in latency', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const before = parseExposition((await http(t, 'GET', '/metrics')).text);
    expect(before.get('parley_signaling_connections')).toBe(0);
    expect(before.get('parley_login_duration_seconds_count')).toBe(0);

    expect((await http(t, 'POST', '/api/auth/login', { json: { username: alice.username, password: 'password123' } })).status).toBe(200);
    expect((await http(t, 'POST', '/api/auth/login', { json: { username: alice.username, password: 'wrong password' } })).status).toBe(401);
    const a = await connectAs(t, alice.token);
    const b = await connectAs(t, bob.token);
    a.send({ type: 'signal', to: bob.username, callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'offer', sdp: 'v=0\r\n' } });
    await b.next();
    a.send({ type: 'signal', to: 'nobody_at_all', callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'hangup' } });
    await a.next(); // peer_unavailable: not relayed, not counted
    a.send({ type: 'send', to: bob.username, id: 'CCCCCCCCCCCCCCCCCCCCCC', body: Buffer.alloc(100).toString('base64url') });
    expect(await a.next()).toMatchObject({ type: 'sent' });

    const res = await http(t, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const s = parseExposition(res.text);
    expect(s.get('parley_info{role="all"}')).toBe(1);
    expect(s.get('parley_signaling_connections')).toBe(2);
    expect(s.get('parley_websocket_sockets')).toBe(2);
    expect(s.get('parley_signaling_frames_relayed_total')).toBe(1);
    expect(s.get('parley_queue_envelopes_accepted_total')).toBe(1);
    expect(s.get('parley_queue_envelopes')).toBe(1); // delivered to bob, not yet acknowledged
    expect(s.get('parley_queue_bytes')).toBe(100);
    expect(s.get('parley_login_duration_seconds_count')).toBe(2);
    expect(s.get('parley_login_duration_seconds_sum')).toBeGreaterThan(0);
    expect(s.get('parley_login_duration_seconds_bucket{le="+Inf"}')).toBe(2);
    const buckets = [...s].filter(([k]) => k.startsWith('parley_login_duration_seconds_bucket')).map(([, v]) => v);
    expect(buckets).toEqual([...buckets].sort((x, y) => x - y));
    expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    a.close();
    b.close();
  });
});
