// Runs inside Chromium (bench/ratchet.ts drives it). Measures, in one page and one run:
//  - bare AES-256-GCM encrypt+decrypt of 100-byte messages (the baseline: one key, fresh IVs),
//  - the same with a key imported per message on each side (what any ratchet on Web Crypto pays),
//  - the same messages through the session (pad, KDF_CK, AES-GCM, envelope, state copy and
//    store), one direction (symmetric ratchet) and alternating speakers (a DH ratchet per message),
//  - session start: verify bundle, PQXDH (4 ECDH + ML-KEM-768 encapsulation), first ratchet step.
// Rounds alternate between the variants so drift in machine load hits all of them alike.
import { aesGcmDecrypt, aesGcmEncrypt, importAesKey } from '../../src/crypto/aead.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { open, openRun, seal, sealRun, startSession } from '../../src/protocol/session-cipher.ts';
import { createParty } from '../../test/support/protocol.ts';

const MESSAGE = new Uint8Array(100).fill(0x61);
const ROUNDS = 5;

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function bareAesGcm(n: number): Promise<void> {
  const key = await importAesKey(webRandom(32));
  const ad = new Uint8Array(0);
  for (let i = 0; i < n; i++) {
    const iv = webRandom(12);
    await aesGcmDecrypt(key, iv, await aesGcmEncrypt(key, iv, MESSAGE, ad), ad);
  }
}

/** The floor for any ratchet on Web Crypto: a fresh key per message, imported on each side. */
async function aesGcmKeyPerMessage(n: number): Promise<void> {
  const ad = new Uint8Array(0);
  for (let i = 0; i < n; i++) {
    const raw = webRandom(32);
    const iv = webRandom(12);
    const sealed = await aesGcmEncrypt(await importAesKey(raw), iv, MESSAGE, ad);
    await aesGcmDecrypt(await importAesKey(raw), iv, sealed, ad);
  }
}

async function sessionPair() {
  const alice = await createParty('alice');
  const bob = await createParty('bob');
  await startSession('bob', bob.bundle(), alice.deps);
  await open('alice', await seal('bob', MESSAGE, alice.deps), bob.deps);
  await open('bob', await seal('alice', MESSAGE, bob.deps), alice.deps);
  return { alice, bob };
}

async function oneDirection(n: number): Promise<void> {
  const { alice, bob } = await sessionPair();
  for (let i = 0; i < n; i++) await open('alice', await seal('bob', MESSAGE, alice.deps), bob.deps);
}

/** The same messages sealed and opened in runs (a burst; a backlog), the state written once per run on each side. */
async function oneDirectionRuns(n: number, run: number): Promise<void> {
  const { alice, bob } = await sessionPair();
  const batch = Array.from({ length: run }, () => MESSAGE);
  for (let i = 0; i < n; i += run) {
    const results = await openRun('alice', await sealRun('bob', batch, alice.deps), bob.deps);
    if (!results.every((r) => r.ok)) throw new Error('a message of the run did not open');
  }
}

async function alternating(n: number): Promise<void> {
  const { alice, bob } = await sessionPair();
  for (let i = 0; i < n; i++) {
    const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, alice];
    await open(from.name, await seal(to.name, MESSAGE, from.deps), to.deps);
  }
}

async function sessionStarts(n: number): Promise<{ initiatorMs: number; responderMs: number }> {
  const bob = await createParty('bob', { oneTimeCount: n });
  let initiator = 0;
  let responder = 0;
  for (let i = 0; i < n; i++) {
    const alice = await createParty(`alice${i}`);
    const bundle = bob.bundle(); // bundle fetch excluded: it is a network round trip
    initiator += await timed(() => startSession('bob', bundle, alice.deps));
    const first = await seal('bob', MESSAGE, alice.deps);
    responder += await timed(async () => {
      await open(`alice${i}`, first, bob.deps);
    });
  }
  return { initiatorMs: initiator / n, responderMs: responder / n };
}

async function main() {
  const N = 1000;
  const RUN = 100;
  const rows = { bare: [] as number[], keyPerMessage: [] as number[], oneWay: [] as number[], runs: [] as number[], alternating: [] as number[] };
  await bareAesGcm(200);
  await oneDirection(50); // warm-up
  await oneDirectionRuns(200, RUN);
  for (let r = 0; r < ROUNDS; r++) {
    rows.bare.push(N / ((await timed(() => bareAesGcm(N))) / 1000));
    rows.keyPerMessage.push(N / ((await timed(() => aesGcmKeyPerMessage(N))) / 1000));
    rows.oneWay.push(N / ((await timed(() => oneDirection(N))) / 1000));
    rows.runs.push(N / ((await timed(() => oneDirectionRuns(N, RUN))) / 1000));
    rows.alternating.push(N / 4 / ((await timed(() => alternating(N / 4))) / 1000));
  }
  const start = await sessionStarts(30);
  const result = {
    userAgent: navigator.userAgent,
    messagesPerRound: N,
    rounds: ROUNDS,
    bareAesGcmPerSecond: median(rows.bare),
    keyPerMessagePerSecond: median(rows.keyPerMessage),
    ratchetOneWayPerSecond: median(rows.oneWay),
    runLength: RUN,
    ratchetRunsPerSecond: median(rows.runs),
    ratchetAlternatingPerSecond: median(rows.alternating),
    sessionStartInitiatorMs: start.initiatorMs,
    sessionStartResponderMs: start.responderMs,
  };
  (window as unknown as { __benchResult: unknown }).__benchResult = result;
  document.getElementById('status')!.textContent = 'done';
}

main().catch((e) => {
  (window as unknown as { __benchResult: unknown }).__benchResult = { error: String(e) };
});
