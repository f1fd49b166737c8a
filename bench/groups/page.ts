// Runs inside Chromium (bench/groups.ts drives it). The sender is the real client code (history
// and group stores in IndexedDB, the outbox, the session manager, the Double Ratchet); the
// server is a transport that takes every envelope at once; the members are simulated peers
// whose bundles the directory hands out (they never answer, and one of them opens what it got
// at the end, to show the envelopes are real). For groups of 10, 50 and 100 members, in
// alternating rounds (each size counts the sender), it times from the call a click on Send makes to the last envelope handed
// to the transport:
//  - one text to the group (GroupService.sendText: one transaction, one entry per member),
//  - the same number of one-to-one texts, one to each member (Outbox.sendText each),
//  - bare AES-256-GCM, one 100-byte encryption per member (the floor).
import { aesGcmEncrypt, importAesKey } from '../../src/crypto/aead.ts';
import { utf8, fromUtf8 } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { open } from '../../src/protocol/session-cipher.ts';
import { encodeBase64url, type PreKeyBundleResponse } from '../../src/wire/index.ts';
import { BrowserProtocolStore } from '../../src/client/platform/protocol-stores.ts';
import { HistoryStore } from '../../src/client/platform/history-store.ts';
import { GroupStore } from '../../src/client/platform/group-store.ts';
import { DeviceDirectory } from '../../src/client/messaging/device-directory.ts';
import { SessionManager } from '../../src/client/messaging/session-manager.ts';
import { Outbox } from '../../src/client/messaging/outbox.ts';
import { GroupService } from '../../src/client/messaging/groups.ts';
import { createParty, randomIdentity, type Party } from '../../test/support/protocol.ts';
import { identityToWire } from '../../test/support/identity.ts';

const TEXT = 'x'.repeat(100);
const ROUNDS = 5;
const SIZES = [10, 50, 100];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function wireBundle(p: Party): PreKeyBundleResponse {
  const b = p.bundle();
  const e = encodeBase64url;
  return {
    username: p.name,
    identity: identityToWire(p.identity),
    signedPreKey: { id: b.signedPreKey.id, publicKey: e(b.signedPreKey.publicKey), signature: e(b.signedPreKey.signature) },
    pqPreKey: { id: b.pqPreKey.id, publicKey: e(b.pqPreKey.publicKey), signature: e(b.pqPreKey.signature) },
    ...(b.oneTimePreKey ? { oneTimePreKey: { id: b.oneTimePreKey.id, publicKey: e(b.oneTimePreKey.publicKey) } } : {}),
  };
}

async function main() {
  const me = 'sender';
  const identity = await randomIdentity();
  const peers = new Map<string, Party>();
  for (let i = 0; i < Math.max(...SIZES); i++) peers.set(`member${String(i).padStart(3, '0')}`, await createParty(`member${i}`, { oneTimeCount: 2 }));
  const identityOf = (name: string) => (name === me ? identityToWire(identity) : identityToWire(peers.get(name)!.identity));
  const api = {
    userKeys: async (username: string) => ({ username, identity: identityOf(username) }),
    bundle: async (username: string) => wireBundle(peers.get(username)!),
    deviceChain: async (username: string) => ({ username, chain: [] }),
  };
  const userId = `bench-${encodeBase64url(webRandom(6))}`;
  const store = new BrowserProtocolStore(userId, identity);
  const directory = new DeviceDirectory(userId, api as never, store, () => {});
  store.lists = directory;
  const sessions = new SessionManager({ username: me, identity, device: '1' }, store, api as never, directory);
  const history = new HistoryStore(userId);
  let handed = 0;
  let target = Infinity;
  let done: () => void = () => {};
  const received = new Map<string, Uint8Array>();
  const outbox = new Outbox(
    history,
    sessions,
    {
      channel: () => undefined,
      enqueue: async (peer, _id, bytes) => {
        received.set(peer, bytes);
        if (++handed === target) done();
        return { ok: true };
      },
    },
    { changed: () => {}, blocked: (peer, reason, detail) => console.error(peer, reason, detail) },
    Date.now,
    me,
  );
  const groups = new GroupService(new GroupStore(userId, me), history, outbox, me, () => true);
  /** Waits until nothing is being sent any more, so one measurement's tail never runs into the next. */
  const quiet = async (members: string[]) => {
    for (const m of members) await outbox.idle(m);
    await new Promise((r) => setTimeout(r, 20));
  };
  const handedOver = (n: number) =>
    new Promise<void>((resolve) => {
      handed = 0;
      target = n;
      done = resolve;
    });

  const results: Record<string, { group: number; oneToOne: number; floor: number }> = {};
  for (const size of SIZES) {
    // A group of `size` members is the sender and size − 1 others (the limit, 100, counts everyone).
    const members = [...peers.keys()].slice(0, size - 1);
    const n = members.length;
    // Setting up (not timed): the group's creation reaches every member, which starts a session with each.
    let ready = handedOver(n);
    const group = await groups.create(`Bench ${size}`, members);
    await ready;
    // One warm-up of each path.
    ready = handedOver(n);
    await groups.sendText(group, TEXT);
    await ready;
    ready = handedOver(n);
    for (const m of members) await outbox.sendText(m, TEXT);
    await ready;
    const key = await importAesKey(webRandom(32));
    const rows = { group: [] as number[], oneToOne: [] as number[], floor: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      await quiet(members);
      ready = handedOver(n);
      let t0 = performance.now();
      await groups.sendText(group, TEXT);
      await ready;
      rows.group.push(performance.now() - t0);

      await quiet(members);
      ready = handedOver(n);
      t0 = performance.now();
      for (const m of members) await outbox.sendText(m, TEXT);
      await ready;
      rows.oneToOne.push(performance.now() - t0);

      t0 = performance.now();
      const message = utf8(TEXT);
      for (let i = 0; i < n; i++) await aesGcmEncrypt(key, webRandom(12), message, new Uint8Array(0));
      rows.floor.push(performance.now() - t0);
    }
    results[String(size)] = { group: median(rows.group), oneToOne: median(rows.oneToOne), floor: median(rows.floor) };
  }
  // The envelopes are real: the first member opens the last one it was sent (a prekey message
  // still, as it never answered, so it opens without the ones before).
  const first = [...peers.keys()][0]!;
  const opened = fromUtf8((await open(me, received.get(first)!, peers.get(first)!.deps)).plaintext);
  (window as unknown as { __benchResult: unknown }).__benchResult = { userAgent: navigator.userAgent, rounds: ROUNDS, results, opened: opened.includes(TEXT) };
}

main().catch((e: unknown) => {
  (window as unknown as { __benchResult: unknown }).__benchResult = { error: String(e instanceof Error ? e.stack : e) };
});
