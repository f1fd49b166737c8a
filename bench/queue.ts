// Offline queue throughput (issue #4): `npm run bench:queue`.
// In one run, the same flow against two servers that differ only in where the queue lives:
// the SQLite file (what Parley ships) and memory (the baseline). For each:
//  1. store: 10 senders push 10 envelopes of 1 KiB to each of 1,000 offline recipients
//     (10,000 envelopes), pipelined, until the server has confirmed every one;
//  2. deliver: the 1,000 recipients authenticate at once and receive and acknowledge all;
//  3. backlog: one recipient with 1,000 waiting envelopes reconnects; time until all arrived.
// Accounts are seeded straight into the store and tokens minted with the server's key: the
// API's bcrypt is not what is measured here.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../src/server/config.ts';
import { startServer, type ParleyServer } from '../src/server/app.ts';
import { createAccessTokens, loadOrCreateSigningKeys } from '../src/server/auth/access-tokens.ts';
import { memoryQueue } from '../src/server/store/memory-queue.ts';

const RECIPIENTS = 1000;
const PER_RECIPIENT = 10;
const SENDERS = 10;
const BACKLOG = 1000;
const BODY = Buffer.alloc(1024, 7).toString('base64url');
const WINDOW = 200;

interface Client {
  ws: WebSocket;
  onFrame(handler: (f: any) => void): void;
}

async function openClient(url: string, ca: Buffer): Promise<Client> {
  const ws = new WebSocket(url, { ca });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let handler: (f: any) => void = () => {};
  ws.on('message', (d) => handler(JSON.parse(d.toString())));
  return { ws, onFrame: (h) => (handler = h) };
}

async function auth(c: Client, token: string): Promise<void> {
  await new Promise<void>((resolve) => {
    c.onFrame((f) => f.type === 'ready' && resolve());
    c.ws.send(JSON.stringify({ type: 'auth', token }));
  });
}

async function flow(label: string, useMemoryQueue: boolean) {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `parley-bench-queue-${label}-`));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    CLIENT_DIR: '',
    LOG_LEVEL: 'silent',
    SIGNALING_FRAMES_PER_SECOND: '1000000',
    SIGNALING_FRAME_BURST: '1000000',
    QUEUE_MAX_MESSAGES: '100000',
  });
  const server: ParleyServer = await startServer(config, { logger: false, ...(useMemoryQueue ? { queue: memoryQueue() } : {}) });
  const tokens = createAccessTokens(await loadOrCreateSigningKeys(dataDir), 900);
  const ca = readFileSync(path.join(dataDir, 'tls', 'self-signed.crt'));
  const url = `wss://127.0.0.1:${server.port}/ws`;
  const identity = { signingKey: new Uint8Array(65), dhKey: new Uint8Array(65), dhKeySignature: new Uint8Array(64), updatedAt: 0 };
  const user = async (name: string) => {
    const id = `id-${name}`;
    await server.store.users.create({ id, username: name, passwordHash: 'x', createdAt: 0 }, identity);
    return { id, name, token: (await tokens.issue(id, name)).token };
  };
  const senders = await Promise.all(Array.from({ length: SENDERS }, (_, i) => user(`sender${i}`)));
  const recipients = await Promise.all(Array.from({ length: RECIPIENTS }, (_, i) => user(`rcpt${i}`)));
  const backlogUser = await user('backlog');

  // 1. store
  const senderClients = await Promise.all(senders.map(() => openClient(url, ca)));
  await Promise.all(senderClients.map((c, i) => auth(c, senders[i]!.token)));
  const storeStart = performance.now();
  await Promise.all(
    senderClients.map(
      (c, s) =>
        new Promise<void>((resolve) => {
          const jobs: Array<{ to: string; id: string }> = [];
          for (let r = 0; r < RECIPIENTS; r++) for (let k = 0; k < PER_RECIPIENT / SENDERS; k++) jobs.push({ to: `rcpt${r}`, id: `s${s}r${r}k${k}`.padEnd(16, '0') });
          let next = 0;
          let done = 0;
          const push = () => {
            const job = jobs[next++]!;
            c.ws.send(JSON.stringify({ type: 'send', to: job.to, id: job.id, body: BODY }));
          };
          c.onFrame((f) => {
            if (f.type !== 'sent') throw new Error(JSON.stringify(f));
            done++;
            if (next < jobs.length) push();
            if (done === jobs.length) resolve();
          });
          for (let i = 0; i < Math.min(WINDOW, jobs.length); i++) push();
        }),
    ),
  );
  const storeMs = performance.now() - storeStart;
  const total = RECIPIENTS * PER_RECIPIENT;

  // 2. deliver to 1,000 reconnecting recipients
  const recipientClients = [];
  for (let i = 0; i < RECIPIENTS; i += 100) recipientClients.push(...(await Promise.all(recipients.slice(i, i + 100).map(() => openClient(url, ca)))));
  const deliverStart = performance.now();
  await Promise.all(
    recipientClients.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          let got = 0;
          c.onFrame((f) => {
            if (f.type !== 'envelope') return;
            got++;
            c.ws.send(JSON.stringify({ type: 'ack', qids: [f.qid] }));
            if (got === PER_RECIPIENT) resolve();
          });
          c.ws.send(JSON.stringify({ type: 'auth', token: recipients[i]!.token }));
        }),
    ),
  );
  const deliverMs = performance.now() - deliverStart;
  for (const c of recipientClients) c.ws.close();

  // 3. a backlog of 1,000 for one recipient
  const sender = senderClients[0]!;
  await new Promise<void>((resolve) => {
    let done = 0;
    let next = 0;
    const push = () => sender.ws.send(JSON.stringify({ type: 'send', to: 'backlog', id: `backlog${String(next++).padStart(10, '0')}`, body: BODY }));
    sender.onFrame((f) => {
      if (f.type !== 'sent') return;
      if (++done === BACKLOG) resolve();
      else if (next < BACKLOG) push();
    });
    for (let i = 0; i < WINDOW; i++) push();
  });
  const backlogClient = await openClient(url, ca);
  const backlogStart = performance.now();
  await new Promise<void>((resolve) => {
    let got = 0;
    backlogClient.onFrame((f) => {
      if (f.type !== 'envelope') return;
      got++;
      backlogClient.ws.send(JSON.stringify({ type: 'ack', qids: [f.qid] }));
      if (got === BACKLOG) resolve();
    });
    backlogClient.ws.send(JSON.stringify({ type: 'auth', token: backlogUser.token }));
  });
  const backlogMs = performance.now() - backlogStart;

  for (const c of [...senderClients, backlogClient]) c.ws.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
  return { label, storedPerSecond: total / (storeMs / 1000), deliveredPerSecond: total / (deliverMs / 1000), backlogMs };
}

const memory = await flow('memory', true);
const sqlite = await flow('sqlite', false);
const f = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`${RECIPIENTS} offline recipients × ${PER_RECIPIENT} envelopes of 1 KiB from ${SENDERS} senders; backlog of ${BACKLOG} for one recipient\n`);
console.log('| measure | SQLite queue | in-memory queue | SQLite / memory |');
console.log('| --- | --- | --- | --- |');
console.log(`| envelopes stored per second | ${f(sqlite.storedPerSecond)} | ${f(memory.storedPerSecond)} | ${(sqlite.storedPerSecond / memory.storedPerSecond).toFixed(2)}× |`);
console.log(`| envelopes delivered and acknowledged per second | ${f(sqlite.deliveredPerSecond)} | ${f(memory.deliveredPerSecond)} | ${(sqlite.deliveredPerSecond / memory.deliveredPerSecond).toFixed(2)}× |`);
console.log(`| backlog of ${BACKLOG} delivered after reconnect | ${f(sqlite.backlogMs)} ms | ${f(memory.backlogMs)} ms | ${(sqlite.backlogMs / memory.backlogMs).toFixed(2)}× |`);
process.exit(0);
