// Conversations, messages and the outbox of one account, in IndexedDB. Outgoing messages are
// written (with their outbox entry, in one transaction) before anything is sent; incoming ones
// are written in the same transaction as the ratchet state that decrypted them.
import type { Payload } from '../../wire/index.ts';
import { addIfAbsent, idbGet, idbGetAllByIndex, idbGetAllWithPrefix, idbTransaction, idbPut, idbPutMany, idbDelete, request } from './idb.ts';
import { decodeBase64url } from '../../wire/index.ts';

export type MessageState = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** `no-space`: the receiver's browser had no room for it; `not-saved`: another write failure. */
export type FileStatus = 'offered' | 'sending' | 'receiving' | 'paused' | 'done' | 'failed' | 'cancelled' | 'no-space' | 'not-saved';

/** A transfer that will not move again. */
export const isFinished = (status: FileStatus): boolean => status === 'done' || status === 'failed' || status === 'cancelled' || status === 'no-space' || status === 'not-saved';

/** A file in the conversation; its bytes live in the origin-private file system, not here. */
export interface FileInfo {
  name: string;
  size: number;
  mime: string;
  thumbnail?: string;
  status: FileStatus;
  /** Bytes transferred so far (saved at checkpoints; the live figure is in memory). */
  bytes: number;
  /** A file this browser sent to a group: the transfer to each member, by id. */
  parts?: string[];
}

/** What a device remembers of a file transfer in progress, to resume it after a dropped channel. */
export interface TransferRecord {
  id: string;
  peer: string;
  direction: 'out' | 'in';
  name: string;
  size: number;
  mime: string;
  chunks: number;
  /** The file's chunk key (it came, or goes, inside the ratchet). */
  key: Uint8Array;
  /** The next chunk index expected (receiver) or to send (sender). */
  next: number;
  /** SHA-256 of every chunk before `next`, concatenated (receiver). */
  hashes: Uint8Array;
  status: FileStatus;
  /** Where its message lives when not in the conversation with `peer`: a group's (issue #18). */
  conversation?: string;
  /** Its message's id when it differs from the transfer's (the sender's one message for all members). */
  messageId?: string;
}

/** How a call ended, as the call log remembers it. */
export type CallOutcome = 'completed' | 'missed' | 'no-answer' | 'declined' | 'busy' | 'cancelled' | 'unavailable' | 'failed' | 'intercepted';

/** A line in the conversation for a call that ended (never sent anywhere: each side writes its own). */
export interface CallLog {
  media: 'voice' | 'video';
  outcome: CallOutcome;
  /** How long media flowed; 0 for a call that never connected. */
  durationMs: number;
}

export interface MessageRecord {
  id: string;
  peer: string;
  direction: 'out' | 'in';
  text: string;
  /** When the sender wrote it (sender's clock). */
  at: number;
  /** The sender's running count of messages in this conversation: orders their messages. */
  seq: number;
  /** Outgoing only: how far the message got. */
  state?: MessageState;
  /** Incoming only: whether it has been shown to the user. */
  read?: boolean;
  file?: FileInfo;
  /** A call's line in the log: `direction` says who called. */
  call?: CallLog;
  /** Groups: who wrote an incoming message. */
  from?: string;
  /** Groups, outgoing: the members it went to, and which of them confirmed it, or read it. */
  group?: { to: string[]; delivered: string[]; read: string[] };
  /** A line about the group ("alice added carol"), seen by this person only. */
  event?: boolean;
}

export interface ConversationRecord {
  peer: string;
  lastAt: number;
  lastText: string;
  lastDirection: 'out' | 'in';
  unread: number;
  /** The next `seq` for a message we send. */
  nextSeq: number;
  /** The last line is a call's (shown without "You:"). */
  lastIsCall?: boolean;
}

export interface OutboxEntry {
  id: string;
  peer: string;
  payload: Payload;
  createdAt: number;
  /** Sent over a direct channel and not yet confirmed by a receipt (texts only). */
  viaChannelAt: number | null;
  /** The server confirmed it holds the envelope. */
  serverStored: boolean;
  /** Meaningful only on the direct channel (channel binding, goodbye): never queued. */
  channelOnly: boolean;
  /**
   * Several browsers (issue #17): the sessions (messaging/device-directory.ts addresses) the
   * server has not yet taken this entry for, the contact's browsers and this account's others.
   * Absent: one browser each side, sent as in v1.
   */
  remaining?: string[];
}

const STATE_RANK: Record<MessageState, number> = { failed: 0, sending: 1, sent: 2, delivered: 3, read: 4 };

/** A line in a conversation ("bob linked a new browser", "alice added carol"): this person's only, never unread. */
export function eventLine(peer: string, id: string, text: string, at: number): MessageRecord {
  return { id, peer, direction: 'in', text, at, seq: 0, read: true, event: true };
}

export function messageOrder(a: MessageRecord, b: MessageRecord): number {
  // A call's line has no sender's count: it is placed by this browser's clock.
  // Each sender's count orders that sender's messages; a group's senders are placed by their clocks.
  if (a.direction === b.direction && a.direction === 'in' && !a.call && !b.call && !a.event && !b.event && a.from === b.from) return a.seq - b.seq;
  return a.at - b.at || (a.direction === b.direction ? a.seq - b.seq : a.direction === 'out' ? 1 : -1);
}

export type IncomingEffect =
  | { kind: 'text'; message: MessageRecord; isNew: boolean }
  | { kind: 'file-offer'; message: MessageRecord; transfer: TransferRecord; isNew: boolean }
  | { kind: 'receipt'; updated: MessageRecord[] }
  /** From another browser of this account: a text it sent to `peer`, or messages it read. */
  | { kind: 'copy'; peer: string; message: MessageRecord; isNew: boolean }
  | { kind: 'read-sync'; peer: string }
  | { kind: 'control' };

/**
 * A batch of incoming texts being stored in one transaction (a catch-up). Each text is added
 * without reading first (a repeat's add fails, which is how a repeat is told), nothing waits on
 * IndexedDB until the batch ends, and each conversation is read once and written once: storing
 * five hundred texts does not wait for a thousand round trips one after another.
 */
interface TextBatch {
  conversations: Map<string, Promise<ConversationRecord | undefined>>;
  texts: Array<{ peer: string; sentAt: number; text: string; visible: boolean; added: Promise<boolean>; effect: Extract<IncomingEffect, { kind: 'text' }> }>;
}

/** The conversation after an incoming text: the newest line shown, one more unread unless on screen. */
function withIncomingText(peer: string, c: ConversationRecord | undefined, sentAt: number, text: string, visible: boolean): ConversationRecord {
  const newer = !c || sentAt >= c.lastAt;
  return {
    peer,
    lastAt: newer ? sentAt : c.lastAt,
    lastText: newer ? text : c.lastText,
    lastDirection: newer ? 'in' : c.lastDirection,
    unread: (c?.unread ?? 0) + (visible ? 0 : 1),
    nextSeq: c?.nextSeq ?? 0,
    ...(newer ? {} : { lastIsCall: c.lastIsCall }),
  };
}

export class HistoryStore {
  private readonly batches = new WeakMap<IDBTransaction, TextBatch>();

  constructor(private readonly userId: string) {}

  /** Texts applied in `tx` from now on are batched until `finishTexts`; the conversations of `peers` are read ahead. */
  beginTexts(tx: IDBTransaction, peers: Iterable<string>): void {
    const batch: TextBatch = { conversations: new Map(), texts: [] };
    const convos = tx.objectStore('conversations');
    for (const peer of peers) {
      if (batch.conversations.has(peer)) continue;
      const read = request(convos.get(this.key(peer))) as Promise<ConversationRecord | undefined>;
      read.catch(() => undefined); // awaited in finishTexts, which sees any error; never unhandled
      batch.conversations.set(peer, read);
    }
    this.batches.set(tx, batch);
  }

  /**
   * The batch's texts are all applied, or something else is about to be (which may read or
   * write what they wrote): tells each text whether it was new and writes the conversations.
   * Effects returned for the texts are completed here, before the transaction commits.
   */
  async finishTexts(tx: IDBTransaction): Promise<void> {
    const batch = this.batches.get(tx);
    if (!batch) return;
    this.batches.delete(tx);
    const messages = tx.objectStore('messages');
    const convos = tx.objectStore('conversations');
    const changed = new Map<string, ConversationRecord | undefined>();
    for (const t of batch.texts) {
      if (!(await t.added)) {
        // Seen before (at-least-once delivery): shown once; the effect names the stored one.
        t.effect.isNew = false;
        t.effect.message = ((await request(messages.get(this.key(t.peer, t.effect.message.id)))) as MessageRecord | undefined) ?? t.effect.message;
        continue;
      }
      const c = changed.has(t.peer) ? changed.get(t.peer) : await (batch.conversations.get(t.peer) ?? (request(convos.get(this.key(t.peer))) as Promise<ConversationRecord | undefined>));
      changed.set(t.peer, withIncomingText(t.peer, c, t.sentAt, t.text, t.visible));
    }
    for (const [peer, record] of changed) convos.put(record, this.key(peer));
  }

  private key(...rest: IDBValidKey[]): IDBValidKey[] {
    return [this.userId, ...rest];
  }

  async conversations(): Promise<ConversationRecord[]> {
    const all = await idbGetAllWithPrefix<ConversationRecord>('conversations', [this.userId]);
    return all.sort((a, b) => b.lastAt - a.lastAt);
  }

  /** Conversations, and texts and lines since `since`, for a browser being linked (files and calls stay). */
  async exportRecent(since: number): Promise<{ conversations: ConversationRecord[]; messages: MessageRecord[] }> {
    const conversations = await idbGetAllWithPrefix<ConversationRecord>('conversations', [this.userId]);
    const messages = (await idbGetAllWithPrefix<MessageRecord>('messages', [this.userId])).filter((m) => m.at >= since && !m.file && !m.call && typeof m.peer === 'string');
    return { conversations: conversations.filter((c) => typeof c.peer === 'string'), messages };
  }

  /** Writes what a linked browser sent; nothing here is replaced by it. */
  async importLinked(conversations: ConversationRecord[], messages: MessageRecord[]): Promise<void> {
    await idbTransaction(['messages', 'conversations'], async (tx) => {
      const convos = tx.objectStore('conversations');
      for (const c of conversations) {
        if (!(await request(convos.get(this.key(c.peer))))) convos.put(c, this.key(c.peer));
      }
      const store = tx.objectStore('messages');
      for (const m of messages) {
        if (!(await request(store.get(this.key(m.peer, m.id))))) store.put(m, this.key(m.peer, m.id));
      }
    });
  }

  message(peer: string, id: string): Promise<MessageRecord | undefined> {
    return idbGet('messages', this.key(peer, id));
  }

  outboxEntry(id: string): Promise<OutboxEntry | undefined> {
    return idbGet('outbox', this.key(id));
  }

  async messages(peer: string): Promise<MessageRecord[]> {
    const all = await idbGetAllWithPrefix<MessageRecord>('messages', [this.userId, peer]);
    return all.sort(messageOrder);
  }

  conversation(peer: string): Promise<ConversationRecord | undefined> {
    return idbGet('conversations', this.key(peer));
  }

  /**
   * A line about the contact ("bob linked a new browser"), kept with the conversation so that a
   * reload does not lose it. Not a message: never sent, never unread, and the conversation keeps
   * its place in the list. Null when there is no conversation with `peer` to keep it in.
   */
  async addLine(peer: string, id: string, text: string, at: number): Promise<MessageRecord | null> {
    return idbTransaction(['messages', 'conversations'], async (tx) => {
      if (!(await request(tx.objectStore('conversations').get(this.key(peer))))) return null;
      const line = eventLine(peer, id, text, at);
      tx.objectStore('messages').put(line, this.key(peer, id));
      return line;
    });
  }

  /** Ensures a conversation exists (opening a chat with someone new). */
  async touch(peer: string, now: number): Promise<void> {
    if (await this.conversation(peer)) return;
    await idbPut('conversations', this.key(peer), { peer, lastAt: now, lastText: '', lastDirection: 'out', unread: 0, nextSeq: 0 } satisfies ConversationRecord);
  }

  /** Stores a new outgoing text and its outbox entry together; returns the message. */
  async addOutgoing(peer: string, id: string, text: string, now: number): Promise<MessageRecord> {
    return idbTransaction(['messages', 'conversations', 'outbox'], async (tx) => {
      const convos = tx.objectStore('conversations');
      const c = (await request(convos.get(this.key(peer)))) as ConversationRecord | undefined;
      const seq = c?.nextSeq ?? 0;
      const message: MessageRecord = { id, peer, direction: 'out', text, at: now, seq, state: 'sending' };
      const entry: OutboxEntry = {
        id,
        peer,
        payload: { type: 'text', id, text, sentAt: now, seq },
        createdAt: now,
        viaChannelAt: null,
        serverStored: false,
        channelOnly: false,
      };
      tx.objectStore('messages').put(message, this.key(peer, id));
      tx.objectStore('outbox').put(entry, this.key(id));
      convos.put({ peer, lastAt: now, lastText: text, lastDirection: 'out', unread: c?.unread ?? 0, nextSeq: seq + 1 } satisfies ConversationRecord, this.key(peer));
      return message;
    });
  }

  /**
   * Writes a call's line. A missed incoming call counts as unread unless the conversation is on
   * screen; no receipt is ever sent for it (it is not a message).
   */
  async addCallLog(peer: string, id: string, direction: 'out' | 'in', at: number, call: CallLog, text: string, visible: boolean): Promise<MessageRecord> {
    return idbTransaction(['messages', 'conversations'], async (tx) => {
      const convos = tx.objectStore('conversations');
      const c = (await request(convos.get(this.key(peer)))) as ConversationRecord | undefined;
      const unseen = call.outcome === 'missed' && !visible;
      const message: MessageRecord = { id, peer, direction, text, at, seq: 0, call, ...(direction === 'in' ? { read: !unseen } : {}) };
      tx.objectStore('messages').put(message, this.key(peer, id));
      const newer = !c || at >= c.lastAt;
      convos.put(
        {
          peer,
          lastAt: newer ? at : c.lastAt,
          lastText: newer ? text : c.lastText,
          lastDirection: newer ? direction : c.lastDirection,
          unread: (c?.unread ?? 0) + (unseen ? 1 : 0),
          nextSeq: c?.nextSeq ?? 0,
          lastIsCall: newer ? true : c.lastIsCall,
        } satisfies ConversationRecord,
        this.key(peer),
      );
      return message;
    });
  }

  addOutbox(entry: OutboxEntry): Promise<void> {
    return idbPut('outbox', this.key(entry.id), entry);
  }

  /** Several entries in one durable write. */
  addOutboxMany(entries: readonly OutboxEntry[]): Promise<void> {
    return entries.length ? idbPutMany('outbox', entries.map((e) => [this.key(e.id), e])) : Promise.resolve();
  }

  async outbox(peer?: string): Promise<OutboxEntry[]> {
    const all = peer === undefined ? await idbGetAllWithPrefix<OutboxEntry>('outbox', [this.userId]) : await idbGetAllByIndex<OutboxEntry>('outbox', 'peer', peer, this.userId);
    return all.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  updateOutbox(entry: OutboxEntry): Promise<void> {
    return idbPut('outbox', this.key(entry.id), entry);
  }

  /** Once the server or the contact has the entry: losing this delete in a crash only sends it again. */
  removeOutbox(id: string): Promise<void> {
    return idbDelete('outbox', this.key(id), 'relaxed');
  }

  /** Raises outgoing messages to `state` (never lowers one); returns those that changed. */
  async setState(peer: string, ids: string[], state: MessageState): Promise<MessageRecord[]> {
    return idbTransaction(['messages', 'outbox'], (tx) => this.raise(tx, peer, ids, state));
  }

  private async raise(tx: IDBTransaction, peer: string, ids: string[], state: MessageState): Promise<MessageRecord[]> {
    const store = tx.objectStore('messages');
    const changed: MessageRecord[] = [];
    for (const id of ids) {
      const m = (await request(store.get(this.key(peer, id)))) as MessageRecord | undefined;
      if (!m || m.direction !== 'out') continue;
      const lower = STATE_RANK[m.state ?? 'sending'] < STATE_RANK[state];
      // 'failed' is only set on a message still sending; a later success clears it.
      if (!lower && !(state === 'failed' && m.state === 'sending')) continue;
      const next = { ...m, state };
      store.put(next, this.key(peer, id));
      if (state === 'delivered' || state === 'read') {
        // A message still on its way to another browser (several browsers, issue #17) stays in
        // the outbox until the server has it for every one; then it is dropped (outbox.ts).
        const outbox = tx.objectStore('outbox');
        const entry = (await request(outbox.get(this.key(id)))) as OutboxEntry | undefined;
        if (!entry?.remaining?.length) outbox.delete(this.key(id));
      }
      changed.push(next);
    }
    return changed;
  }

  /**
   * What an incoming payload changes, written inside the caller's transaction (which also
   * holds the ratchet state). Texts are de-duplicated by id: at-least-once delivery shows each
   * message once.
   */
  async applyIncoming(tx: IDBTransaction, peer: string, payload: Payload, visible: boolean, own = false): Promise<IncomingEffect> {
    // Copies and read marks mean something only from this account's own browsers.
    if (payload.type === 'sent-copy' || payload.type === 'read-sync') {
      await this.finishTexts(tx);
      return own ? this.applyOwn(tx, payload) : { kind: 'control' };
    }
    if (own) return { kind: 'control' };
    if (payload.type !== 'text') await this.finishTexts(tx);
    if (payload.type === 'receipt') return { kind: 'receipt', updated: await this.raise(tx, peer, payload.ids, payload.status) };
    if (payload.type === 'file-offer') return this.applyOffer(tx, peer, payload, visible);
    if (payload.type !== 'text') return { kind: 'control' };
    const messages = tx.objectStore('messages');
    const message: MessageRecord = { id: payload.id, peer, direction: 'in', text: payload.text, at: payload.sentAt, seq: payload.seq, read: visible };
    // A text outside a batch is a batch of one.
    const alone = !this.batches.has(tx);
    if (alone) this.beginTexts(tx, [peer]);
    const effect: Extract<IncomingEffect, { kind: 'text' }> = { kind: 'text', message, isNew: true };
    this.batches.get(tx)!.texts.push({ peer, sentAt: payload.sentAt, text: payload.text, visible, added: addIfAbsent(messages, message, this.key(peer, payload.id)), effect });
    if (alone) await this.finishTexts(tx);
    return effect;
  }

  private async applyOwn(tx: IDBTransaction, payload: Extract<Payload, { type: 'sent-copy' | 'read-sync' }>): Promise<IncomingEffect> {
    const messages = tx.objectStore('messages');
    const convos = tx.objectStore('conversations');
    const peer = payload.type === 'sent-copy' ? payload.to : payload.peer;
    const c = (await request(convos.get(this.key(peer)))) as ConversationRecord | undefined;
    if (payload.type === 'read-sync') {
      let cleared = 0;
      for (const id of payload.ids) {
        const m = (await request(messages.get(this.key(peer, id)))) as MessageRecord | undefined;
        if (m && m.direction === 'in' && !m.read) {
          messages.put({ ...m, read: true }, this.key(peer, id));
          cleared++;
        }
      }
      if (c && cleared) convos.put({ ...c, unread: Math.max(0, c.unread - cleared) }, this.key(peer));
      return { kind: 'read-sync', peer };
    }
    const existing = (await request(messages.get(this.key(peer, payload.id)))) as MessageRecord | undefined;
    if (existing) return { kind: 'copy', peer, message: existing, isNew: false };
    const message: MessageRecord = { id: payload.id, peer, direction: 'out', text: payload.text, at: payload.sentAt, seq: payload.seq, state: 'sent' };
    messages.put(message, this.key(peer, payload.id));
    const newer = !c || payload.sentAt >= c.lastAt;
    convos.put(
      {
        peer,
        lastAt: newer ? payload.sentAt : c.lastAt,
        lastText: newer ? payload.text : c.lastText,
        lastDirection: newer ? 'out' : c.lastDirection,
        unread: c?.unread ?? 0,
        // The next message written here must not reuse a number the other browser used.
        nextSeq: Math.max(c?.nextSeq ?? 0, payload.seq + 1),
        ...(newer ? {} : { lastIsCall: c.lastIsCall }),
      } satisfies ConversationRecord,
      this.key(peer),
    );
    return { kind: 'copy', peer, message, isNew: true };
  }

  /** A file offer: the message and the transfer record (with its key) are written with the ratchet state. */
  /**
   * A file offer: the message and the transfer record (with its key) are written with the
   * ratchet state. `conversation`: a group's, where a group file's message goes (its sender is
   * then named on the message).
   */
  async applyOffer(tx: IDBTransaction, peer: string, offer: Extract<Payload, { type: 'file-offer' }>, visible: boolean, conversation = peer): Promise<Extract<IncomingEffect, { kind: 'file-offer' }>> {
    const transfers = tx.objectStore('transfers');
    const messages = tx.objectStore('messages');
    const existing = (await request(transfers.get(this.key(offer.id)))) as TransferRecord | undefined;
    if (existing) {
      const message = (await request(messages.get(this.key(existing.conversation ?? peer, offer.id)))) as MessageRecord;
      return { kind: 'file-offer', message, transfer: existing, isNew: false };
    }
    const key = decodeBase64url(offer.key)!;
    const inGroup = conversation !== peer;
    const transfer: TransferRecord = {
      id: offer.id,
      peer,
      direction: 'in',
      name: offer.name,
      size: offer.size,
      mime: offer.mime,
      chunks: offer.chunks,
      key,
      next: 0,
      hashes: new Uint8Array(0),
      status: 'receiving',
      ...(inGroup ? { conversation } : {}),
    };
    const file: FileInfo = { name: offer.name, size: offer.size, mime: offer.mime, status: 'receiving', bytes: 0, ...(offer.thumbnail ? { thumbnail: offer.thumbnail } : {}) };
    const message: MessageRecord = { id: offer.id, peer: conversation, direction: 'in', text: offer.name, at: offer.sentAt, seq: offer.seq, read: visible, file, ...(inGroup ? { from: peer } : {}) };
    const now = offer.sentAt;
    transfers.put(transfer, this.key(offer.id));
    messages.put(message, this.key(conversation, offer.id));
    const convos = tx.objectStore('conversations');
    const c = (await request(convos.get(this.key(conversation)))) as ConversationRecord | undefined;
    convos.put(
      {
        peer: conversation,
        lastAt: now,
        lastText: inGroup ? `${peer}: 📎 ${offer.name}` : `📎 ${offer.name}`,
        lastDirection: 'in',
        unread: (c?.unread ?? 0) + (visible ? 0 : 1),
        nextSeq: c?.nextSeq ?? 0,
      } satisfies ConversationRecord,
      this.key(conversation),
    );
    return { kind: 'file-offer', message, transfer, isNew: true };
  }

  /**
   * A file to a group: one message in the group's conversation (id `messageId`), and a transfer
   * for each member, all in one transaction.
   */
  async addOutgoingGroupFile(conversation: string, messageId: string, transfers: TransferRecord[], thumbnail: string | undefined, now: number): Promise<MessageRecord> {
    return idbTransaction(['messages', 'conversations', 'transfers'], async (tx) => {
      const convos = tx.objectStore('conversations');
      const c = (await request(convos.get(this.key(conversation)))) as ConversationRecord | undefined;
      const first = transfers[0]!;
      const file: FileInfo = { name: first.name, size: first.size, mime: first.mime, status: 'sending', bytes: 0, parts: transfers.map((t) => t.id), ...(thumbnail ? { thumbnail } : {}) };
      const message: MessageRecord = { id: messageId, peer: conversation, direction: 'out', text: first.name, at: now, seq: c?.nextSeq ?? 0, file };
      tx.objectStore('messages').put(message, this.key(conversation, messageId));
      for (const t of transfers) tx.objectStore('transfers').put(t, this.key(t.id));
      convos.put({ peer: conversation, lastAt: now, lastText: `📎 ${first.name}`, lastDirection: 'out', unread: c?.unread ?? 0, nextSeq: (c?.nextSeq ?? 0) + 1 } satisfies ConversationRecord, this.key(conversation));
      return message;
    });
  }

  /** Stores an outgoing file's message and transfer record together. */
  async addOutgoingFile(peer: string, transfer: TransferRecord, thumbnail: string | undefined, now: number): Promise<MessageRecord> {
    return idbTransaction(['messages', 'conversations', 'transfers'], async (tx) => {
      const convos = tx.objectStore('conversations');
      const c = (await request(convos.get(this.key(peer)))) as ConversationRecord | undefined;
      const file: FileInfo = { name: transfer.name, size: transfer.size, mime: transfer.mime, status: 'sending', bytes: 0, ...(thumbnail ? { thumbnail } : {}) };
      const message: MessageRecord = { id: transfer.id, peer, direction: 'out', text: transfer.name, at: now, seq: c?.nextSeq ?? 0, file };
      tx.objectStore('messages').put(message, this.key(peer, transfer.id));
      tx.objectStore('transfers').put(transfer, this.key(transfer.id));
      convos.put({ peer, lastAt: now, lastText: `📎 ${transfer.name}`, lastDirection: 'out', unread: c?.unread ?? 0, nextSeq: (c?.nextSeq ?? 0) + 1 } satisfies ConversationRecord, this.key(peer));
      return message;
    });
  }

  transfer(id: string): Promise<TransferRecord | undefined> {
    return idbGet('transfers', this.key(id));
  }

  /** Saves a transfer's progress and its message's file status in one transaction. */
  async saveTransfer(transfer: TransferRecord, bytes: number): Promise<void> {
    await idbTransaction(['messages', 'transfers'], async (tx) => {
      tx.objectStore('transfers').put(transfer, this.key(transfer.id));
      const messages = tx.objectStore('messages');
      const key = this.key(transfer.conversation ?? transfer.peer, transfer.messageId ?? transfer.id);
      const m = (await request(messages.get(key))) as MessageRecord | undefined;
      if (!m?.file) return;
      // The sender's one message for a group file: done once every member has it, failed only if none can.
      let status = transfer.status;
      let done = bytes;
      if (transfer.messageId && transfer.messageId !== transfer.id && m.file.parts) {
        const all = await Promise.all(m.file.parts.map((id) => request(tx.objectStore('transfers').get(this.key(id))) as Promise<TransferRecord | undefined>));
        const states = all.map((t) => (t?.id === transfer.id ? transfer : t)).filter((t): t is TransferRecord => t !== undefined);
        status = states.every((t) => t.status === 'done') ? 'done' : states.some((t) => !isFinished(t.status)) ? 'sending' : states.some((t) => t.status === 'done') ? 'done' : transfer.status;
        done = status === 'done' ? m.file.size : Math.min(m.file.size, bytes);
      }
      messages.put({ ...m, file: { ...m.file, status, bytes: done } }, key);
    });
  }

  /** Marks every incoming message of the conversation read; returns the messages it marked (calls aside). */
  async markRead(peer: string): Promise<MessageRecord[]> {
    return idbTransaction(['messages', 'conversations'], async (tx) => {
      const store = tx.objectStore('messages');
      const range = IDBKeyRange.bound([this.userId, peer], [this.userId, peer, []]);
      const all = (await request(store.getAll(range))) as MessageRecord[];
      const marked: MessageRecord[] = [];
      for (const m of all) {
        if (m.direction === 'in' && !m.read) {
          store.put({ ...m, read: true }, this.key(peer, m.id));
          if (!m.call) marked.push(m);
        }
      }
      const convos = tx.objectStore('conversations');
      const c = (await request(convos.get(this.key(peer)))) as ConversationRecord | undefined;
      if (c && c.unread !== 0) convos.put({ ...c, unread: 0 }, this.key(peer));
      return marked;
    });
  }

  async setting<T>(name: string, fallback: T): Promise<T> {
    return (await idbGet<T>('meta', this.key(`setting:${name}`))) ?? fallback;
  }

  saveSetting(name: string, value: unknown): Promise<void> {
    return idbPut('meta', this.key(`setting:${name}`), value);
  }
}
