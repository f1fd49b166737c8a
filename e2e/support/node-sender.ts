// A Parley user in Node: signs up with real keys, starts a real session with a browser user
// from the key directory and sends them texts through the server's queue, sealed exactly as a
// browser seals them. For filling someone's queue quickly (a catch-up of thousands of messages),
// where driving a browser per sender would take minutes.
import { request as httpsRequest } from 'node:https';
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { utf8 } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { MemoryIdentityStore, MemoryPreKeyStore, MemorySessionStore } from '../../src/protocol/memory-stores.ts';
import { sealRun, startSession, type SessionDeps } from '../../src/protocol/session-cipher.ts';
import { encodeBase64url, SEND_MANY_MAX_ITEMS, type Payload, type PreKeyBundleResponse, type ServerFrame } from '../../src/wire/index.ts';
import { bundleFromWire, keyUpload } from '../../test/support/keys.ts';

function call(base: string, method: string, pathname: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      `${base}${pathname}`,
      {
        method,
        rejectUnauthorized: false, // the test server's self-signed certificate
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), origin: base },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export interface NodeSender {
  name: string;
  /** Seals `texts` for `to` (one session, one state write per batch) and has the server queue them; resolves once every one is stored. */
  sendTexts(to: string, texts: readonly string[]): Promise<void>;
  close(): void;
}

export async function nodeSender(base: string, name: string, password = 'correct horse battery'): Promise<NodeSender> {
  const { identity, body: keys } = await keyUpload({ oneTime: 5 });
  const signup = await call(base, 'POST', '/api/auth/signup', { username: name, password, identity: keys.identity });
  if (signup.status !== 201) throw new Error(`signup of ${name} failed: ${signup.status} ${JSON.stringify(signup.json)}`);
  const token = (signup.json as { accessToken: string }).accessToken;
  const published = await call(base, 'PUT', '/api/keys', keys, token);
  if (published.status >= 300) throw new Error(`keys of ${name} refused: ${published.status} ${JSON.stringify(published.json)}`);
  const deps: SessionDeps = { identities: new MemoryIdentityStore(identity), preKeys: new MemoryPreKeyStore(), sessions: new MemorySessionStore(), random: webRandom, now: () => Date.now() };
  const ws = new WebSocket(base.replace(/^http/, 'ws') + '/ws', { rejectUnauthorized: false, origin: base });
  const frames: ServerFrame[] = [];
  const waiters: Array<() => void> = [];
  ws.on('message', (data) => {
    frames.push(JSON.parse(data.toString()) as ServerFrame);
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'auth', token }));
  const next = async (): Promise<ServerFrame> => {
    while (!frames.length) await new Promise<void>((r) => waiters.push(r));
    return frames.shift()!;
  };
  const ready = await next();
  if (ready.type !== 'ready') throw new Error(`${name}: expected ready, got ${JSON.stringify(ready)}`);
  const started = new Set<string>();
  let seq = 0;
  let framesSent = 0;

  return {
    name,
    async sendTexts(to, texts) {
      if (!started.has(to)) {
        const bundle = await call(base, 'GET', `/api/users/${encodeURIComponent(to)}/bundle`, undefined, token);
        if (bundle.status !== 200) throw new Error(`${name}: no bundle for ${to}: ${bundle.status}`);
        await startSession(to, bundleFromWire(bundle.json as PreKeyBundleResponse), deps);
        started.add(to);
      }
      const payloads = texts.map((text): Payload => ({ type: 'text', id: randomUUID(), text, sentAt: Date.now(), seq: seq++ }));
      const envelopes = await sealRun(to, payloads.map((p) => utf8(JSON.stringify(p))), deps);
      // send-many frames under the server's 32 KiB frame limit, paced under its default rate
      // limit (20 frames a second after a burst of 60), each answered before the next.
      let frame: Array<{ to: string; id: string; body: string }> = [];
      let size = 0;
      const flush = async () => {
        if (!frame.length) return;
        if (++framesSent > 50) await new Promise((r) => setTimeout(r, 55));
        ws.send(JSON.stringify({ type: 'send-many', items: frame }));
        for (let k = 0; k < frame.length; k++) {
          let f = await next();
          // Frames meant for a reader (receipts queued for us, presence) are not answers: skipped.
          while (f.type === 'presence' || f.type === 'devices' || f.type === 'envelope' || f.type === 'transient') f = await next();
          if (f.type !== 'sent') throw new Error(`${name}: the server did not store an envelope: ${JSON.stringify(f)}`);
        }
        frame = [];
        size = 0;
      };
      for (const e of envelopes) {
        const item = { to, id: randomUUID().replace(/-/g, ''), body: encodeBase64url(e) };
        const bytes = item.body.length + 120;
        if (frame.length === SEND_MANY_MAX_ITEMS || size + bytes > 28 * 1024) await flush();
        frame.push(item);
        size += bytes;
      }
      await flush();
    },
    close() {
      ws.close();
    },
  };
}
