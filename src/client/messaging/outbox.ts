// Everything we send, durable until it has arrived (DESIGN.md "Transport", issue #4). A text is
// stored locally before any attempt; each attempt seals it afresh through the contact's session
// and sends it over the direct channel when one is open, otherwise to the server's offline
// queue. Texts leave the outbox when the contact's device confirms them (a "delivered" receipt);
// a text sent over a channel that then drops, or that stays unconfirmed, goes again through the
// server. The receiver de-duplicates by message id, so at-least-once here is exactly-once there.
// One pump per contact keeps each contact's messages in order.
import { MAX_RECEIPT_IDS, type Payload } from '../../wire/index.ts';
import { isProtocolError } from '../../protocol/errors.ts';
import { ApiError } from '../platform/api-client.ts';
import type { HistoryStore, MessageRecord, OutboxEntry } from '../platform/history-store.ts';
import type { EnqueueOutcome } from '../transport/signaling-client.ts';
import { newId } from './ids.ts';
import { parseAddress } from './device-directory.ts';
import { formatBytes } from './file-size.ts';
import type { SessionManager } from './session-manager.ts';

export interface OutboxTransport {
  /** The open direct channel to `peer`, if there is one. */
  channel(peer: string): { send(bytes: Uint8Array): boolean } | undefined;
  /** Undefined when the server cannot be reached right now. `device`: which of `peer`'s browsers. */
  enqueue(peer: string, id: string, bytes: Uint8Array, device?: string): Promise<EnqueueOutcome | undefined>;
  /** Many at once (a group text's fan-out), each answered as by `enqueue`. */
  enqueueMany?(items: ReadonlyArray<{ to: string; id: string; body: Uint8Array; toDevice?: string }>): Promise<Array<EnqueueOutcome | undefined>>;
}

export interface OutboxEvents {
  changed(peer: string, messages: MessageRecord[]): void;
  /** Sending to `peer` is held up for a reason the user should see. */
  blocked(peer: string, reason: 'identity_changed' | 'no_keys' | 'queue_full', detail: string): void;
  /** The server holds `entry` for every browser it was for (groups mark their text sent). */
  handedOver?(entry: OutboxEntry): void;
}

/**
 * Group payloads go through the server's queue only: it keeps them until each member's browser
 * takes them, where a direct channel (mutual contacts only, and fire-and-forget for anything but
 * a one-to-one text) could lose one when it drops.
 */
const queueOnly = (entry: OutboxEntry): boolean => entry.payload.type.startsWith('group-');

/** A text sent over a channel and not confirmed within this time goes through the server too. */
export const CHANNEL_CONFIRM_MS = 15_000;

export class Outbox {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(
    private readonly history: HistoryStore,
    private readonly sessions: SessionManager,
    private readonly transport: OutboxTransport,
    private readonly events: OutboxEvents,
    private readonly now: () => number = Date.now,
    /** This account's username: copies of what it sends go to its other browsers. */
    private readonly me = '',
  ) {}

  /** Stores the text, then tries to send it. Resolves once it is stored. */
  async sendText(peer: string, text: string): Promise<MessageRecord> {
    const message = await this.history.addOutgoing(peer, newId(), text, this.now());
    this.kick(peer);
    return message;
  }

  async sendReceipt(peer: string, status: 'delivered' | 'read', ids: string[]): Promise<void> {
    const entries: OutboxEntry[] = [];
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      const payload: Payload = { type: 'receipt', status, ids: ids.slice(i, i + MAX_RECEIPT_IDS) };
      entries.push({ id: newId(), peer, payload, createdAt: this.now(), viaChannelAt: null, serverStored: false, channelOnly: false });
    }
    await this.history.addOutboxMany(entries); // a thousand receipts: one write, not ten
    this.kick(peer);
  }

  /** Read in this browser: the account's other browsers mark the same messages read (no receipt). */
  async sendReadSync(peer: string, ids: string[]): Promise<void> {
    if (!this.me) return;
    const entries: OutboxEntry[] = [];
    for (let i = 0; i < ids.length; i += MAX_RECEIPT_IDS) {
      const payload: Payload = { type: 'read-sync', peer, ids: ids.slice(i, i + MAX_RECEIPT_IDS) };
      entries.push({ id: newId(), peer: this.me, payload, createdAt: this.now(), viaChannelAt: null, serverStored: false, channelOnly: false });
    }
    await this.history.addOutboxMany(entries);
    this.kick(this.me);
  }

  /**
   * Tells this account's other browsers of a file offered from this one to `peer` (issue #17).
   * Its bytes go from this browser only, over its direct channel, so they show a sent line
   * naming it (a sent-copy, which every version of the app already shows).
   */
  async sendFileCopy(peer: string, file: { id: string; name: string; size: number; sentAt: number; seq: number }): Promise<void> {
    if (!this.me) return;
    // Offered, not sent: whether it arrives (or is declined, or cancelled) shows in that browser only.
    const text = `Offered a file from another browser: ${file.name} (${formatBytes(file.size)}). It goes from that browser, directly, and is kept there.`;
    const payload: Payload = { type: 'sent-copy', to: peer, id: file.id, text, sentAt: file.sentAt, seq: file.seq };
    await this.history.addOutbox({ id: newId(), peer: this.me, payload, createdAt: this.now(), viaChannelAt: null, serverStored: false, channelOnly: false });
    this.kick(this.me);
  }

  /** The direct channel to `peer` closed: whatever it did not confirm goes through the server. */
  async channelClosed(peer: string): Promise<void> {
    for (const e of await this.history.outbox(peer)) {
      if (e.viaChannelAt !== null) await this.history.updateOutbox({ ...e, viaChannelAt: null });
    }
    this.kick(peer);
  }

  /** Tries every contact with something waiting (on reconnect, and periodically). */
  async kickAll(): Promise<void> {
    const peers = new Set((await this.history.outbox()).map((e) => e.peer));
    for (const peer of peers) this.kick(peer);
  }

  kick(peer: string): void {
    if (this.running.has(peer)) {
      this.again.add(peer);
      return;
    }
    const run = (async () => {
      do {
        this.again.delete(peer);
        await this.pump(peer);
      } while (this.again.has(peer));
    })().finally(() => this.running.delete(peer));
    this.running.set(peer, run.catch(() => undefined));
  }

  /**
   * Sends entries just written, one per contact (a group text: one per member), sealing them all
   * with one durable write of the sessions they advance (SessionManager.sealMany) where each
   * contact's pump would wait for the disk once per member. Whatever cannot go this way (this
   * account's own copy, a contact with older entries still waiting, a changed safety number, no
   * session yet, the server unreachable) is left to that contact's pump, which runs afterwards.
   */
  async burst(entries: readonly OutboxEntry[]): Promise<void> {
    // One payload for all (the entries of one group text); anything else goes the usual way.
    const mine = entries.filter((e) => e.peer !== this.me && !this.running.has(e.peer) && e.payload === entries[0]?.payload);
    for (const e of entries) if (!mine.includes(e)) this.kick(e.peer);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    for (const e of mine) this.running.set(e.peer, held);
    try {
      const plans: Array<{ entry: OutboxEntry; addresses: string[] }> = [];
      // A contact whose pump is busy was left to it above. Older entries that are waiting for
      // some other reason (a changed safety number, the server unreachable) hold this one back
      // for the same reason; and a member's browser orders a sender's texts by their count.
      await Promise.all(
        mine.map(async (entry) => {
          const addresses = await this.sessions.targets(entry.peer, false).then((t) => t.peer, () => []);
          if (addresses.length) plans.push({ entry, addresses });
        }),
      );
      const payload = plans[0]?.entry.payload;
      if (!payload) return; // nobody to send to now: the pumps (finally) take what is left
      const sealed = await this.sessions.sealMany(plans.flatMap((p) => p.addresses), payload);
      // Every envelope that sealed goes to the server at once; then each entry is settled.
      const items = plans.flatMap(({ entry, addresses }) =>
        addresses.flatMap((address) => {
          const body = sealed.get(address);
          if (!(body instanceof Uint8Array)) return [];
          const { peer: to, device } = parseAddress(address);
          return [{ address, to, id: device === '1' ? entry.id : `${entry.id}-${device}`, body, ...(device === '1' ? {} : { toDevice: device }) }];
        }),
      );
      const outcomes = this.transport.enqueueMany
        ? await this.transport.enqueueMany(items)
        : await Promise.all(items.map((i) => this.transport.enqueue(i.to, i.id, i.body, i.toDevice)));
      const outcomeOf = new Map(items.map((i, n) => [i.address, outcomes[n]]));
      await Promise.all(plans.map(({ entry, addresses }) => this.settleBurst(entry, addresses, outcomeOf)));
    } finally {
      release();
      for (const e of mine) {
        this.running.delete(e.peer);
        this.kick(e.peer); // leftovers, and whatever was kicked meanwhile
      }
    }
  }

  /** Settles one burst entry by its envelopes' outcomes; what did not go stays for the pump. */
  private async settleBurst(entry: OutboxEntry, addresses: string[], outcomes: Map<string, EnqueueOutcome | undefined>): Promise<void> {
    const left: string[] = [];
    for (const address of addresses) {
      const outcome = outcomes.get(address);
      // Not sealed, not taken (offline, a full queue): the pump seals it again (the receiver skips the unused key).
      if (!outcome || (!outcome.ok && outcome.code === 'queue_full')) {
        left.push(address);
        continue;
      }
      // Any other refusal (that browser was unlinked meanwhile): dropped, as in fanOut.
      if (!outcome.ok) this.sessions.directory.markStale(parseAddress(address).peer);
    }
    if (left.length === 0) {
      await this.history.removeOutbox(entry.id);
      this.events.handedOver?.(entry);
    } else if (left.length < addresses.length) {
      await this.history.updateOutbox({ ...entry, remaining: left });
    }
  }

  /** Resolves when nothing is being sent to `peer` any more (tests, shutdown). */
  async idle(peer: string): Promise<void> {
    while (this.running.has(peer)) await this.running.get(peer);
  }

  private async pump(peer: string): Promise<void> {
    for (const entry of await this.history.outbox(peer)) {
      if (entry.serverStored) continue; // waiting for the contact's receipt
      if (!entry.channelOnly) {
        const remaining = entry.remaining ?? (await this.plan(peer, entry));
        if (remaining !== undefined) {
          if ((await this.fanOut(peer, { ...entry, remaining }, remaining)) === 'stop') return;
          continue;
        }
        // What goes to this account's other browsers waits until their list can be read.
        if (peer === this.me) return;
      }
      const channel = queueOnly(entry) ? undefined : this.transport.channel(peer);
      if (entry.viaChannelAt !== null && channel && this.now() - entry.viaChannelAt < CHANNEL_CONFIRM_MS) continue;
      const bytes = await this.seal(peer, entry);
      if (bytes === 'stop') return;
      if (bytes === 'skip') continue;
      if (channel && channel.send(bytes)) {
        if (entry.payload.type === 'text') await this.history.updateOutbox({ ...entry, viaChannelAt: this.now() });
        else await this.history.removeOutbox(entry.id);
        continue;
      }
      const outcome = await this.transport.enqueue(peer, entry.id, bytes);
      if (!outcome) return; // offline: the next reconnect kicks us again
      if (outcome.ok) {
        if (entry.payload.type !== 'text') {
          await this.history.removeOutbox(entry.id);
          this.events.handedOver?.(entry);
          continue;
        }
        await this.history.updateOutbox({ ...entry, serverStored: true });
        this.events.changed(peer, await this.history.setState(peer, [entry.id], 'sent'));
        continue;
      }
      if (outcome.code === 'queue_full') {
        this.events.blocked(peer, 'queue_full', outcome.message);
        return; // keep it; a later kick tries again
      }
      await this.fail(peer, entry, outcome.message);
    }
  }

  /**
   * Where an entry goes when either side has several browsers: every browser of the contact, and
   * (texts) a copy to each other browser of this account, through the server's queue. Undefined:
   * one browser each side, the v1 way (direct channel or queue).
   */
  private async plan(peer: string, entry: OutboxEntry): Promise<string[] | undefined> {
    if (!this.me) return undefined;
    let targets;
    try {
      targets = await this.sessions.targets(peer, entry.payload.type === 'text');
    } catch {
      return undefined; // the lists cannot be fetched now (offline): the v1 way still works
    }
    if (peer !== this.me && targets.own.length === 0 && targets.peer.length === 1 && targets.peer[0] === peer) return undefined;
    const remaining = [...targets.own, ...targets.peer];
    await this.history.updateOutbox({ ...entry, remaining });
    return remaining;
  }

  private async fanOut(peer: string, entry: OutboxEntry, remaining: string[]): Promise<'stop' | 'done'> {
    let left = [...remaining];
    for (const address of remaining) {
      const { peer: name, device } = parseAddress(address);
      const copy = name === this.me && peer !== this.me;
      const payload: Payload | undefined = !copy
        ? entry.payload
        : entry.payload.type === 'text'
          ? { type: 'sent-copy', to: peer, id: entry.payload.id, text: entry.payload.text, sentAt: entry.payload.sentAt, seq: entry.payload.seq }
          : undefined;
      let outcome: EnqueueOutcome | undefined;
      if (payload) {
        let bytes: Uint8Array;
        try {
          bytes = await this.sessions.seal(address, payload);
        } catch (e) {
          if (isProtocolError(e, 'identity_changed')) {
            this.events.blocked(peer, 'identity_changed', `Your safety number with ${peer} has changed.`);
            return 'stop';
          }
          if (!isProtocolError(e)) throw e;
          bytes = new Uint8Array(0); // no session with that browser any more: skip it
        }
        if (bytes.length) {
          outcome = await this.transport.enqueue(name, device === '1' ? entry.id : `${entry.id}-${device}`, bytes, device);
          if (!outcome) return 'stop'; // offline: the next reconnect kicks us again
          if (!outcome.ok && outcome.code === 'queue_full') {
            this.events.blocked(peer, 'queue_full', outcome.message);
            return 'stop';
          }
          // Any other refusal (that browser was unlinked meanwhile): it is dropped from the list.
          if (!outcome.ok) this.sessions.directory.markStale(name);
        }
      }
      left = left.filter((a) => a !== address);
      await this.history.updateOutbox({ ...entry, remaining: left });
    }
    const state = entry.payload.type === 'text' ? (await this.history.message(peer, entry.id))?.state : undefined;
    if (entry.payload.type === 'text' && peer !== this.me && state !== 'delivered' && state !== 'read') {
      // Kept until a browser of the contact confirms it (a "delivered" receipt).
      await this.history.updateOutbox({ ...entry, remaining: [], serverStored: true });
      this.events.changed(peer, await this.history.setState(peer, [entry.id], 'sent'));
    } else {
      await this.history.removeOutbox(entry.id);
      this.events.handedOver?.(entry);
    }
    return 'done';
  }

  /** Seals the entry's payload; 'stop' holds this contact's queue, 'skip' drops the entry. */
  private async seal(peer: string, entry: OutboxEntry): Promise<Uint8Array | 'stop' | 'skip'> {
    try {
      return await this.sessions.seal(peer, entry.payload);
    } catch (e) {
      if (isProtocolError(e, 'identity_changed')) {
        this.events.blocked(peer, 'identity_changed', `Your safety number with ${peer} has changed.`);
        return 'stop';
      }
      if (!isProtocolError(e, 'no_session')) throw e;
    }
    try {
      await this.sessions.prepare(peer);
      return await this.sessions.seal(peer, entry.payload);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'not_found') {
        await this.fail(peer, entry, `${peer} has no Parley keys, so nothing can be sent to them.`);
        this.events.blocked(peer, 'no_keys', `${peer} cannot receive messages.`);
        return 'skip';
      }
      if (isProtocolError(e, 'identity_changed') || isProtocolError(e, 'no_session')) {
        this.events.blocked(peer, 'identity_changed', `Your safety number with ${peer} has changed.`);
        return 'stop';
      }
      if (e instanceof ApiError) return 'stop'; // server unreachable: try again later
      throw e;
    }
  }

  private async fail(peer: string, entry: OutboxEntry, _reason: string): Promise<void> {
    await this.history.removeOutbox(entry.id);
    if (entry.payload.type === 'text') this.events.changed(peer, await this.history.setState(peer, [entry.id], 'failed'));
  }
}
