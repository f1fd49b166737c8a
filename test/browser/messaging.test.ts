// The messaging layer in a real browser with real IndexedDB: Alice's and Bob's outbox, inbox,
// history and sessions wired together through an in-memory stand-in for the server's queue and
// a stand-in for the direct channel (both only move bytes), so that loss, duplication, channel
// cuts, offline spells and receipts can be staged precisely.
import { describe, expect, it } from 'vitest';
import { BrowserProtocolStore } from '../../src/client/platform/protocol-stores.ts';
import { HistoryStore, type MessageRecord } from '../../src/client/platform/history-store.ts';
import { createIdentity } from '../../src/client/platform/key-vault.ts';
import { maintainKeys } from '../../src/client/messaging/key-maintenance.ts';
import { DeviceDirectory } from '../../src/client/messaging/device-directory.ts';
import { SessionManager } from '../../src/client/messaging/session-manager.ts';
import { Outbox } from '../../src/client/messaging/outbox.ts';
import { Inbox } from '../../src/client/messaging/inbox.ts';
import type { ApiClient } from '../../src/client/platform/api-client.ts';
import type { EnqueueOutcome } from '../../src/client/transport/signaling-client.ts';
import { groupConversation, type KeyStatusResponse, type PreKeyBundleResponse, type PublishKeysRequest } from '../../src/wire/index.ts';
import { GroupStore } from '../../src/client/platform/group-store.ts';
import { GroupService } from '../../src/client/messaging/groups.ts';

interface Device {
  name: string;
  history: HistoryStore;
  outbox: Outbox;
  inbox: Inbox;
  sessions: SessionManager;
  /** What the server holds for this device. */
  queue: Array<{ from: string; id: string; body: Uint8Array }>;
  /** The conversation on screen, if any. */
  reading?: string;
  online: boolean;
  channelTo: Map<string, Uint8Array[] | null>;
  blocked: string[];
  groups: GroupService;
  /** Envelopes handed to the server, in order. */
  handed: string[];
}

async function world() {
  const published = new Map<string, { body: PublishKeysRequest; taken: number }>();
  const devices = new Map<string, Device>();
  const apiFor = (me: string) => {
    let status: KeyStatusResponse = { identity: null, signedPreKeyId: null, pqPreKeyId: null, oneTimePreKeys: 0 };
    return {
      keyStatus: async () => status,
      publishKeys: async (body: PublishKeysRequest) => {
        published.set(me, { body, taken: 0 });
        status = { identity: body.identity, signedPreKeyId: body.signedPreKey.id, pqPreKeyId: body.pqPreKey.id, oneTimePreKeys: body.oneTimePreKeys.length };
      },
      addOneTimePreKeys: async () => undefined,
      userKeys: async (peer: string) => ({ username: peer, identity: published.get(peer)!.body.identity }),
      // Accounts of one browser each: no list of browsers, as in v1.
      deviceChain: async (peer: string) => ({ username: peer, chain: [] }),
      bundle: async (peer: string): Promise<PreKeyBundleResponse> => {
        const p = published.get(peer)!;
        const otk = p.body.oneTimePreKeys[p.taken++];
        return { username: peer, identity: p.body.identity, signedPreKey: p.body.signedPreKey, pqPreKey: p.body.pqPreKey, ...(otk ? { oneTimePreKey: otk } : {}) };
      },
    } as unknown as ApiClient;
  };

  const make = async (name: string): Promise<Device> => {
    const userId = `${name}-${crypto.randomUUID()}`;
    const identity = await createIdentity();
    const store = new BrowserProtocolStore(userId, identity);
    const api = apiFor(name);
    await maintainKeys(api, store, identity);
    const history = new HistoryStore(userId);
    const sessions = new SessionManager({ username: name, identity, device: '1' }, store, api, new DeviceDirectory(userId, api, store, () => undefined));
    const device = { name, history, sessions, queue: [], online: true, channelTo: new Map(), blocked: [], handed: [] } as unknown as Device;
    device.outbox = new Outbox(
      history,
      sessions,
      {
        channel: (peer) => {
          const pipe = device.channelTo.get(peer);
          return pipe ? { send: (bytes) => (pipe.push(bytes), true) } : undefined;
        },
        enqueue: async (peer, id, bytes): Promise<EnqueueOutcome | undefined> => {
          if (!device.online) return undefined;
          const target = devices.get(peer)!;
          device.handed.push(peer);
          if (!target.queue.some((e) => e.from === name && e.id === id)) target.queue.push({ from: name, id, body: bytes });
          return { ok: true };
        },
      },
      { changed: () => undefined, blocked: (_p, reason) => device.blocked.push(reason), handedOver: (e) => void device.groups.handedOver(e) },
      Date.now,
      name,
    );
    const groupStore = new GroupStore(userId, name);
    device.groups = new GroupService(groupStore, history, device.outbox, name, () => true);
    device.inbox = new Inbox(
      history,
      sessions,
      device.outbox,
      {
        message: () => undefined,
        fileOffer: () => undefined,
        receipts: () => undefined,
        control: () => undefined,
        keyChanged: () => undefined,
        undecryptable: () => undefined,
        unknownDevice: () => undefined,
        own: () => undefined,
        group: (from, effect) => device.groups.afterReceive(from, effect, device.reading === groupConversation(effect.group), true),
      },
      (peer) => device.reading === peer,
      () => true,
      name,
      groupStore,
    );
    devices.set(name, device);
    return device;
  };
  return { make, devices };
}

/** The server hands everything queued for `d` to it, as on reconnect (at least once: nothing is removed). */
async function drainQueue(d: Device, { keep = false } = {}): Promise<void> {
  const batch = [...d.queue];
  if (!keep) d.queue.length = 0;
  for (const e of batch) {
    await d.history.touch(e.from, Date.now());
    await d.inbox.receive(e.from, e.body);
  }
}

async function settle(...ds: Device[]): Promise<void> {
  await new Promise((r) => setTimeout(r, 80)); // receipt batching
  for (const d of ds) for (const peer of ['alice', 'bob']) await d.outbox.idle(peer);
}

const states = async (d: Device, peer: string) => (await d.history.messages(peer)).filter((m) => m.direction === 'out').map((m) => m.state);
const texts = async (d: Device, peer: string) => (await d.history.messages(peer)).filter((m) => m.direction === 'in').map((m) => m.text);

describe('outbox and inbox', () => {
  it('stores a message before any attempt, and sends it when the server can be reached', async () => {
    const w = await world();
    const alice = await w.make('alice');
    const bob = await w.make('bob');
    alice.online = false;
    const m: MessageRecord = await alice.outbox.sendText('bob', 'written offline');
    await alice.outbox.idle('bob');
    expect(await states(alice, 'bob')).toEqual(['sending']);
    expect((await alice.history.outbox('bob')).map((e) => e.id)).toEqual([m.id]);

    alice.online = true;
    await alice.outbox.kickAll();
    await alice.outbox.idle('bob');
    expect(await states(alice, 'bob')).toEqual(['sent']);
    await drainQueue(bob);
    await settle(alice, bob);
    await drainQueue(alice);
    await settle(alice, bob);
    expect(await texts(bob, 'alice')).toEqual(['written offline']);
    expect(await states(alice, 'bob')).toEqual(['delivered']);
    expect(await alice.history.outbox('bob')).toEqual([]);
  });

  it('shows each message once however often it arrives, in the sender\'s order', async () => {
    const w = await world();
    const alice = await w.make('alice');
    const bob = await w.make('bob');
    for (let i = 0; i < 5; i++) await alice.outbox.sendText('bob', `m${i}`);
    await alice.outbox.idle('bob');
    bob.queue.reverse(); // the server is not obliged to be kind
    await drainQueue(bob, { keep: true });
    await drainQueue(bob, { keep: true }); // delivered again: at least once
    expect(await texts(bob, 'alice')).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    const convo = await bob.history.conversation('alice');
    expect(convo?.unread).toBe(5);
  });

  it('keeps a line about the contact (a new browser) in the conversation, placed by time, never unread', async () => {
    const w = await world();
    const alice = await w.make('alice');
    const bob = await w.make('bob');
    // No conversation with carol: nothing is made for a line alone.
    expect(await bob.history.addLine('carol', 'line-1', 'carol linked a new browser.', Date.now())).toBeNull();
    expect(await bob.history.conversation('carol')).toBeUndefined();
    expect(await bob.history.messages('carol')).toEqual([]);

    await alice.outbox.sendText('bob', 'first');
    await alice.outbox.idle('bob');
    await drainQueue(bob);
    const before = await bob.history.conversation('alice');
    const line = await bob.history.addLine('alice', 'line-2', 'alice linked a new browser.', Date.now() + 1);
    expect(line).toMatchObject({ id: 'line-2', event: true, read: true });
    // The conversation keeps its place, preview and unread count.
    expect(await bob.history.conversation('alice')).toEqual(before);
    await new Promise((r) => setTimeout(r, 5));
    await alice.outbox.sendText('bob', 'second');
    await alice.outbox.idle('bob');
    await drainQueue(bob);
    // Read back from IndexedDB, as after a reload: between the two texts, by time.
    const stored = await bob.history.messages('alice');
    expect(stored.map((m) => m.text)).toEqual(['first', 'alice linked a new browser.', 'second']);
    const after = await bob.history.conversation('alice');
    expect(after?.unread).toBe(2); // the two texts; the line is not a message
    expect((await bob.history.markRead('alice')).map((m) => m.id)).not.toContain('line-2');
  });

  it('takes a backlog from several people in one batch: all stored in order, repeats and garbage refused, unread counted', async () => {
    const w = await world();
    const bob = await w.make('bob');
    const senders = [await w.make('alice'), await w.make('carol'), await w.make('dave')];
    for (let i = 0; i < 40; i++) for (const s of senders) await s.outbox.sendText('bob', `${s.name} ${i}`);
    for (const s of senders) await s.outbox.idle('bob');
    const backlog = bob.queue.map((e) => ({ peer: e.from, envelope: e.body, device: '1' }));
    expect(backlog).toHaveLength(120);
    const tampered = new Uint8Array(backlog[7]!.envelope);
    tampered[tampered.length - 1]! ^= 1;
    const batch = [...backlog.slice(0, 60), backlog[3]!, { peer: 'alice', envelope: tampered, device: '1' }, ...backlog.slice(60)];
    const handled = await bob.inbox.receiveMany(batch);
    expect(handled.every(Boolean)).toBe(true); // all final: stored, a repeat, or reported
    for (const s of senders) {
      expect(await texts(bob, s.name)).toEqual(Array.from({ length: 40 }, (_, i) => `${s.name} ${i}`));
      expect((await bob.history.conversation(s.name))?.unread).toBe(40);
    }
    // The sessions written are the ones after the batch: the conversations go on both ways.
    await bob.outbox.sendText('alice', 'back');
    await bob.outbox.idle('alice');
    await drainQueue(w.devices.get('alice')!);
    expect(await texts(w.devices.get('alice')!, 'bob')).toEqual(['back']);
    await senders[0]!.outbox.sendText('bob', 'after');
    await senders[0]!.outbox.idle('bob');
    const last = bob.queue.at(-1)!;
    await bob.inbox.receive(last.from, last.body);
    expect((await texts(bob, 'alice')).at(-1)).toBe('after');
  });

  it('sends over the channel when one is open, and through the server what a cut channel did not confirm', async () => {
    const w = await world();
    const alice = await w.make('alice');
    const bob = await w.make('bob');
    const pipe: Uint8Array[] = [];
    alice.channelTo.set('bob', pipe);
    for (let i = 0; i < 4; i++) await alice.outbox.sendText('bob', `c${i}`);
    await alice.outbox.idle('bob');
    expect(pipe).toHaveLength(4);
    expect(bob.queue).toHaveLength(0);
    // Bob gets the first two over the channel; then it is cut.
    for (const bytes of pipe.slice(0, 2)) await bob.inbox.receive('alice', bytes);
    alice.channelTo.delete('bob');
    await alice.outbox.channelClosed('bob');
    await alice.outbox.idle('bob');
    expect(bob.queue).toHaveLength(4); // nothing was confirmed yet, so all four go again
    await drainQueue(bob);
    expect(await texts(bob, 'alice')).toEqual(['c0', 'c1', 'c2', 'c3']);
    await settle(alice, bob);
    await drainQueue(alice);
    expect(await states(alice, 'bob')).toEqual(['delivered', 'delivered', 'delivered', 'delivered']);
  });

  it('marks read, and confirms as read, a message that arrives while its conversation is being opened', async () => {
    const w = await world();
    const alice = await w.make('alice');
    const bob = await w.make('bob');
    await alice.outbox.sendText('bob', 'arriving as Bob opens the chat');
    await alice.outbox.idle('bob');
    const [envelope] = bob.queue.splice(0);
    // Decryption starts while the chat is closed; Bob opens it before the message is stored, and
    // the opening marks read what was unread then.
    const receiving = bob.inbox.receive('alice', envelope!.body);
    bob.reading = 'alice';
    await bob.inbox.markRead('alice');
    await receiving;
    await settle(alice, bob);
    await drainQueue(alice);
    expect((await bob.history.messages('alice')).map((m) => m.read)).toEqual([true]);
    expect((await bob.history.conversation('alice'))?.unread).toBe(0);
    expect(await states(alice, 'bob')).toEqual(['read']);
  });

  it('raises delivery states one way only: a late "delivered" never lowers "read"', async () => {
    const w = await world();
    const alice = await w.make('alice');
    await w.make('bob');
    const m = await alice.outbox.sendText('bob', 'x');
    await alice.outbox.idle('bob');
    await alice.history.setState('bob', [m.id], 'read');
    await alice.history.setState('bob', [m.id], 'delivered');
    await alice.history.setState('bob', [m.id], 'sent');
    expect(await states(alice, 'bob')).toEqual(['read']);
  });

  it('holds messages to a contact whose safety number changed, and sends them once it is accepted', async () => {
    const w = await world();
    const alice = await w.make('alice');
    const bob = await w.make('bob');
    await alice.outbox.sendText('bob', 'first');
    await alice.outbox.idle('bob');
    await drainQueue(bob);
    // Bob moves to a new browser: new identity, new keys, same name.
    const newBob = await w.make('bob');
    await alice.sessions.prepare('bob'); // the directory now shows the new key
    await alice.outbox.sendText('bob', 'second');
    await alice.outbox.idle('bob');
    expect(alice.blocked).toContain('identity_changed');
    expect(await states(alice, 'bob')).toEqual(['sent', 'sending']);
    expect(newBob.queue).toHaveLength(0);
    await alice.sessions.acceptNewKey('bob');
    alice.outbox.kick('bob');
    await alice.outbox.idle('bob');
    await drainQueue(newBob);
    expect(await texts(newBob, 'alice')).toEqual(['second']);
  });
});

describe('groups over the outbox', () => {
  async function groupOf(w: Awaited<ReturnType<typeof world>>, ...names: string[]) {
    const [owner, ...members] = await Promise.all(names.map((n) => w.make(n)));
    const group = await owner!.groups.create('Crew', members.map((m) => m.name));
    for (const m of members) await owner!.outbox.idle(m.name);
    for (const m of members) await drainQueue(m);
    return { owner: owner!, members, group, conversation: groupConversation(group) };
  }
  const groupTexts = async (d: Device, conversation: string) => (await d.history.messages(conversation)).filter((m) => m.direction === 'in' && !m.event).map((m) => `${m.from}: ${m.text}`);

  it('sends a text to every member in one burst, in order with the next ones, and gets a receipt from each', async () => {
    const w = await world();
    const { owner, members, group, conversation } = await groupOf(w, 'alice', 'bob', 'carol', 'dave');
    owner.handed.length = 0;
    // Three texts written back to back: bursts and pumps may overlap, order must hold.
    await Promise.all(['one', 'two', 'three'].map((t) => owner.groups.sendText(group, t)));
    await new Promise((r) => setTimeout(r, 50));
    for (const m of members) await owner.outbox.idle(m.name);
    expect(owner.handed.sort()).toEqual(['bob', 'bob', 'bob', 'carol', 'carol', 'carol', 'dave', 'dave', 'dave']);
    expect(await owner.history.outbox()).toEqual([]);
    for (const m of members) {
      await drainQueue(m);
      expect(await groupTexts(m, conversation)).toEqual(['alice: one', 'alice: two', 'alice: three']);
    }
    await settle(...members);
    for (const m of members) await owner.outbox.idle(m.name);
    await drainQueue(owner);
    const mine = (await owner.history.messages(conversation)).filter((m) => m.direction === 'out');
    expect(mine.map((m) => [m.text, m.state, [...m.group!.delivered].sort()])).toEqual(['one', 'two', 'three'].map((t) => [t, 'sent', ['bob', 'carol', 'dave']]));
  });

  it('leaves a member whose safety number changed to their pump, and the others get the text at once', async () => {
    const w = await world();
    const { owner, members, group, conversation } = await groupOf(w, 'alice', 'bob', 'carol');
    const newCarol = await w.make('carol'); // a new browser with new keys, same name
    await owner.sessions.prepare('carol');
    await owner.groups.sendText(group, 'while carol is new');
    await new Promise((r) => setTimeout(r, 50));
    for (const m of members) await owner.outbox.idle(m.name);
    expect(owner.blocked).toContain('identity_changed');
    await drainQueue(members[0]!);
    expect(await groupTexts(members[0]!, conversation)).toEqual(['alice: while carol is new']);
    expect(newCarol.queue).toHaveLength(0);
    expect((await owner.history.outbox('carol')).map((e) => e.payload.type)).toEqual(['group-text']);
    await owner.sessions.acceptNewKey('carol');
    owner.outbox.kick('carol');
    await owner.outbox.idle('carol');
    expect(newCarol.queue).toHaveLength(1);
  });
});
