// Everything that arrives, from the direct channel or the server's queue, goes through here:
// decrypted and written to history in the same transaction as the ratchet state, then
// acknowledged (to the server) and confirmed (to the sender, with a delivered receipt; a read
// receipt too when the conversation is on screen and read receipts are on). A message that does
// not decrypt is reported, never shown; a repeat is dropped silently.
import type { Payload } from '../../wire/index.ts';
import { isProtocolError } from '../../protocol/errors.ts';
import type { HistoryStore, IncomingEffect, MessageRecord, TransferRecord } from '../platform/history-store.ts';
import type { Outbox } from './outbox.ts';
import type { Received, SessionManager } from './session-manager.ts';
import { addressOf } from './device-directory.ts';
import { groupConversation } from '../../wire/index.ts';
import { isGroupPayload, type GroupEffect, type GroupStore } from '../platform/group-store.ts';

export interface InboxEvents {
  message(peer: string, message: MessageRecord, isNew: boolean): void;
  fileOffer(peer: string, message: MessageRecord, transfer: TransferRecord, isNew: boolean): void;
  receipts(peer: string, updated: MessageRecord[]): void;
  control(peer: string, payload: Payload): void;
  keyChanged(peer: string): void;
  undecryptable(peer: string): void;
  /** A message from a browser that `peer`'s verified list does not name: refused, and said. */
  unknownDevice(peer: string): void;
  /** Another browser of this account sent `message` to `peer` (a copy), or read messages from them. */
  own(peer: string, message: MessageRecord | undefined, isNew: boolean): void;
  /** A group payload from `from` (this account's own name: from another of its browsers). */
  group?(from: string, effect: GroupEffect): void;
}

const RECEIPT_DELAY_MS = 50;
/**
 * While batches keep coming (a catch-up), receipts wait for a pause rather than compete with
 * them for the sessions and the store; but never longer than this.
 */
const RECEIPT_MAX_DELAY_MS = 5_000;

export class Inbox {
  private readonly pendingReceipts = new Map<string, { delivered: string[]; read: string[]; seen: string[] }>();
  private receiptTimer: ReturnType<typeof setTimeout> | undefined;
  /** Batches being received now, and when the oldest receipt waiting was queued. */
  private receiving = 0;
  private receiptsSince: number | undefined;

  constructor(
    private readonly history: HistoryStore,
    private readonly sessions: SessionManager,
    private readonly outbox: Outbox,
    private readonly events: InboxEvents,
    private readonly isReading: (peer: string) => boolean,
    private readonly readReceipts: () => boolean,
    /** This account's username: what comes from it came from another of its browsers. */
    private readonly me = '',
    private readonly groups?: GroupStore,
  ) {}

  /**
   * Resolves once the envelope is handled for good (stored, or reported): then it may be
   * acknowledged; rejects if it could not be stored (it may come again). `via`: the connection
   * it came on, which takes the payloads that belong to it (its binding, its goodbye, a call's
   * keys) before anyone else sees them; a payload of that kind that arrives any other way means
   * nothing and is dropped by whoever gets it.
   */
  async receive(peer: string, envelope: Uint8Array, via?: (p: Payload) => boolean, device = '1'): Promise<void> {
    const [handled] = await this.receiveMany([{ peer, envelope, device }], via);
    if (!handled) throw new Error('the message could not be stored; it will be tried again');
  }

  /**
   * Several envelopes at once (a catch-up's batch), written in one transaction: for each, true
   * once handled for good (stored, or reported: acknowledge it), false if it could not be
   * stored (leave it to come again).
   */
  async receiveMany(items: ReadonlyArray<{ peer: string; envelope: Uint8Array; device: string }>, via?: (p: Payload) => boolean): Promise<boolean[]> {
    this.receiving++;
    try {
      return await this.receiveBatch(items, via);
    } finally {
      this.receiving--;
    }
  }

  private async receiveBatch(items: ReadonlyArray<{ peer: string; envelope: Uint8Array; device: string }>, via?: (p: Payload) => boolean): Promise<boolean[]> {
    const reading = items.map((i) => this.isReading(i.peer));
    const results = await this.sessions.receiveMany(
      items.map((i) => ({ address: addressOf(i.peer, i.device), envelope: i.envelope })),
      async (tx, payload, index): Promise<IncomingEffect | GroupEffect> => {
        const { peer } = items[index]!;
        if (this.groups && isGroupPayload(payload)) {
          await this.history.finishTexts(tx); // a group's lines write conversations too
          return this.groups.apply(tx, peer, payload, (group) => this.isReading(groupConversation(group)));
        }
        return this.history.applyIncoming(tx, peer, payload, reading[index]!, peer === this.me);
      },
      (tx, payloads) => {
        this.history.beginTexts(
          tx,
          payloads.flatMap(({ index, payload }) => (payload.type === 'text' ? [items[index]!.peer] : [])),
        );
        return () => this.history.finishTexts(tx);
      },
    );
    const handled: boolean[] = [];
    for (const [i, result] of results.entries()) {
      const { peer } = items[i]!;
      if (result instanceof Error) {
        handled.push(this.refused(peer, result));
        continue;
      }
      await this.received(peer, result, via, reading[i]!);
      handled.push(true);
    }
    return handled;
  }

  /** True when the refusal is final (reported, or a repeat): the envelope may be acknowledged. */
  private refused(peer: string, e: Error): boolean {
    if (isProtocolError(e, 'duplicate')) return true;
    if (isProtocolError(e, 'unknown_device')) {
      this.events.unknownDevice(peer);
      return true;
    }
    if (isProtocolError(e)) {
      this.events.undecryptable(peer);
      return true;
    }
    return false;
  }

  private async received(peer: string, received: Received<IncomingEffect | GroupEffect>, via: ((p: Payload) => boolean) | undefined, reading: boolean): Promise<void> {
    if (received.keyChanged) this.events.keyChanged(peer);
    if (received.effect.kind === 'group') {
      this.events.group?.(peer, received.effect);
      return;
    }
    if (received.effect.kind === 'control' && via?.(received.payload)) return;
    if (received.effect.kind === 'copy' || received.effect.kind === 'read-sync') {
      this.events.own(received.effect.peer, received.effect.kind === 'copy' ? received.effect.message : undefined, received.effect.kind === 'copy' && received.effect.isNew);
      return;
    }
    if (peer === this.me) return;
    this.apply(peer, received.effect, received.payload, reading);
    // The conversation was opened while this was being decrypted and stored, and the opening
    // marked read only what had been stored by then: without this the message would stay unread
    // and its sender never learn it was read (seen as a flaky "Delivered" in e2e/scale-out).
    const kind = received.effect.kind;
    if (!reading && (kind === 'text' || kind === 'file-offer') && received.effect.isNew && this.isReading(peer)) await this.markRead(peer);
  }

  private apply(peer: string, effect: IncomingEffect, payload: Payload, reading: boolean): void {
    switch (effect.kind) {
      case 'text':
        this.events.message(peer, effect.message, effect.isNew);
        // Confirm even repeats: the first receipt may be what got lost.
        this.queueReceipt(peer, 'delivered', effect.message.id);
        if (reading && this.readReceipts()) this.queueReceipt(peer, 'read', effect.message.id);
        // Read here as it arrived: the account's other browsers mark it read too.
        if (reading && effect.isNew) this.queueReceipt(peer, 'seen', effect.message.id);
        return;
      case 'receipt':
        if (effect.updated.length) this.events.receipts(peer, effect.updated);
        return;
      case 'file-offer':
        this.events.fileOffer(peer, effect.message, effect.transfer, effect.isNew);
        return;
      case 'control':
        this.events.control(peer, payload);
        return;
      case 'copy':
      case 'read-sync':
        return;
    }
  }

  /** The user opened the conversation: send read receipts for what was unread (if enabled). */
  async markRead(peer: string): Promise<void> {
    const ids = (await this.history.markRead(peer)).map((m) => m.id);
    if (this.readReceipts()) for (const id of ids) this.queueReceipt(peer, 'read', id);
    if (ids.length) await this.outbox.sendReadSync(peer, ids);
  }

  /** `seen`: a read mark for this account's other browsers (no receipt to anyone). */
  private queueReceipt(peer: string, status: 'delivered' | 'read' | 'seen', id: string): void {
    const p = this.pendingReceipts.get(peer) ?? { delivered: [], read: [], seen: [] };
    p[status].push(id);
    this.pendingReceipts.set(peer, p);
    // Batched: a backlog of a thousand messages gets ten receipts, not a thousand.
    this.receiptsSince ??= Date.now();
    this.receiptTimer ??= setTimeout(() => void this.flushReceipts(), RECEIPT_DELAY_MS);
  }

  private async flushReceipts(): Promise<void> {
    this.receiptTimer = undefined;
    if (this.receiving > 0 && Date.now() - (this.receiptsSince ?? 0) < RECEIPT_MAX_DELAY_MS) {
      this.receiptTimer = setTimeout(() => void this.flushReceipts(), RECEIPT_DELAY_MS);
      return;
    }
    this.receiptsSince = undefined;
    const all = [...this.pendingReceipts];
    this.pendingReceipts.clear();
    for (const [peer, { delivered, read, seen }] of all) {
      if (delivered.length) await this.outbox.sendReceipt(peer, 'delivered', [...new Set(delivered)]);
      if (read.length) await this.outbox.sendReceipt(peer, 'read', [...new Set(read)]);
      if (seen.length) await this.outbox.sendReadSync(peer, [...new Set(seen)]);
    }
  }
}
