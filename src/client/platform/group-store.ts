// The groups this account is in (issue #18), in IndexedDB beside the conversations: each one's
// view of changes (protocol/group-state.ts), who added us, and texts that arrived before the
// change they were written under. What a group payload changes is written in the same
// transaction as the ratchet state that opened it, like every other incoming message.
import type { Payload } from '../../wire/index.ts';
import { encodeBase64url, groupConversation } from '../../wire/index.ts';
import { webRandom } from '../../crypto/random.ts';
import { headOf, keyOf, knowsChange, receiveChange, startView, type GroupChange, type GroupView, type ReceiveOutcome } from '../../protocol/group-state.ts';
import { eventLine, type ConversationRecord, type HistoryStore, type MessageRecord, type OutboxEntry, type TransferRecord } from './history-store.ts';
import { idbGet, idbGetAllWithPrefix, idbTransaction, request } from './idb.ts';

export interface GroupRecord {
  view: GroupView;
  /** Who added this account; absent when it made the group. */
  invitedBy?: string;
  /** The person accepted the group (or made it, or was added by a contact). */
  accepted: boolean;
}

type GroupText = Extract<Payload, { type: 'group-text' }>;
type FileOffer = Extract<Payload, { type: 'file-offer' }>;
type GroupPayload = Extract<Payload, { type: 'group-change' | 'group-text' | 'group-receipt' | 'group-typing' }> | (FileOffer & { group: string });

interface HeldText {
  from: string;
  payload: GroupText;
}

/** Texts held for a change not yet heard of, per group: enough for a burst, bounded against a flood. */
export const MAX_HELD_TEXTS = 200;

export const isGroupPayload = (p: Payload): p is GroupPayload =>
  p.type === 'group-change' || p.type === 'group-text' || p.type === 'group-receipt' || p.type === 'group-typing' || (p.type === 'file-offer' && p.group !== undefined);

export interface GroupEffect {
  kind: 'group';
  group: string;
  /** Texts newly stored (a held one may come out with a change): each gets a delivered receipt. */
  texts: MessageRecord[];
  /** The group's state or lines changed. */
  changed: boolean;
  /** Own messages whose receipts moved. */
  updated: MessageRecord[];
  /** A member is typing (or stopped). */
  typing?: { from: string; active: boolean };
  /** A file a member sent to the group, with its transfer (stored; the bytes come over the channel). */
  offer?: { message: MessageRecord; transfer: TransferRecord; isNew: boolean };
}

/** How a group's change reads in its conversation, from this member's side. */
export function describeChange(previous: GroupChange | undefined, head: GroupChange, me: string): string[] {
  const who = (name: string) => (name === me ? 'you' : name);
  const by = head.by === me ? 'You' : head.by;
  if (!previous) return [head.by === me ? `You created the group “${head.name}”` : `${head.by} added you to “${head.name}”`];
  const lines: string[] = [];
  if (head.name !== previous.name) lines.push(`${by} renamed the group to “${head.name}”`);
  for (const m of head.members) if (!previous.members.includes(m)) lines.push(`${by} added ${who(m)}`);
  for (const m of previous.members) {
    if (head.members.includes(m)) continue;
    lines.push(m === head.by ? `${head.by === me ? 'You' : m} left` : `${by} removed ${who(m)}`);
  }
  for (const a of head.admins) if (!previous.admins.includes(a) && previous.members.includes(a)) lines.push(`${by} made ${who(a)} an admin`);
  return lines;
}

const REFUSAL_TEXT: Record<string, string> = {
  forged: 'it named someone else as its author',
  'not-admin': 'they are not an admin',
  'not-member': 'they are not in the group',
  'bad-version': 'it was made on a version of the group this browser never had',
  invalid: 'it was malformed',
  'other-group': 'it was for another group',
};

export class GroupStore {
  constructor(
    private readonly userId: string,
    private readonly me: string,
    /** Writes a group file's offer as any file offer is written (into the group's conversation). */
    private readonly history?: HistoryStore,
  ) {}

  private key(name: string): IDBValidKey[] {
    return [this.userId, name];
  }

  get(group: string): Promise<GroupRecord | undefined> {
    return idbGet<GroupRecord>('meta', this.key(`group:${group}`));
  }

  async all(): Promise<GroupRecord[]> {
    const meta = await idbGetAllWithPrefix<unknown>('meta', [this.userId]);
    return meta.filter((r): r is GroupRecord => typeof r === 'object' && r !== null && 'view' in r && 'accepted' in r);
  }

  /** Writes a change this browser made: the record, its lines, and one outbox entry per recipient. */
  async commitOwn(record: GroupRecord, previous: GroupChange | undefined, change: GroupChange, entries: OutboxEntry[]): Promise<MessageRecord[]> {
    return idbTransaction(['meta', 'messages', 'conversations', 'outbox'], async (tx) => {
      tx.objectStore('meta').put(record, this.key(`group:${change.group}`));
      for (const e of entries) tx.objectStore('outbox').put(e, [this.userId, e.id]);
      return this.addLines(tx, change.group, describeChange(previous, change, this.me), change.at);
    });
  }

  async setAccepted(group: string): Promise<void> {
    await idbTransaction(['meta'], async (tx) => {
      const rec = (await request(tx.objectStore('meta').get(this.key(`group:${group}`)))) as GroupRecord | undefined;
      if (rec) tx.objectStore('meta').put({ ...rec, accepted: true }, this.key(`group:${group}`));
    });
  }

  /** Stores a text this browser writes to the group, and the entries that carry it to each member. */
  async addOutgoingText(group: string, id: string, text: string, now: number, to: string[], entry: (seq: number) => OutboxEntry[]): Promise<MessageRecord> {
    const peer = groupConversation(group);
    return idbTransaction(['messages', 'conversations', 'outbox'], async (tx) => {
      const convos = tx.objectStore('conversations');
      const c = (await request(convos.get([this.userId, peer]))) as ConversationRecord | undefined;
      const seq = c?.nextSeq ?? 0;
      const message: MessageRecord = { id, peer, direction: 'out', text, at: now, seq, state: 'sending', group: { to, delivered: [], read: [] } };
      tx.objectStore('messages').put(message, [this.userId, peer, id]);
      for (const e of entry(seq)) tx.objectStore('outbox').put(e, [this.userId, e.id]);
      convos.put({ peer, lastAt: now, lastText: text, lastDirection: 'out', unread: c?.unread ?? 0, nextSeq: seq + 1 } satisfies ConversationRecord, [this.userId, peer]);
      return message;
    });
  }

  /**
   * What a group payload from `from` changes, inside the transaction that holds the ratchet
   * state. `own`: it came from another browser of this account. `visible`: the group's
   * conversation is on screen.
   */
  async apply(tx: IDBTransaction, from: string, payload: GroupPayload, visible: (group: string) => boolean): Promise<GroupEffect> {
    const group = payload.type === 'group-change' ? payload.change.group : payload.group;
    const effect: GroupEffect = { kind: 'group', group, texts: [], changed: false, updated: [] };
    const meta = tx.objectStore('meta');
    const rec = (await request(meta.get(this.key(`group:${group}`)))) as GroupRecord | undefined;
    switch (payload.type) {
      case 'file-offer': {
        const head = rec ? headOf(rec.view) : undefined;
        // From a member, to a member: anyone else's offer for this group is not taken.
        if (!head || !this.history || !head.members.includes(from) || !head.members.includes(this.me) || from === this.me) return effect;
        effect.offer = await this.history.applyOffer(tx, from, payload, visible(group), groupConversation(group));
        return effect;
      }
      case 'group-typing':
        if (rec && from !== this.me && headOf(rec.view).members.includes(from)) effect.typing = { from, active: payload.active };
        return effect;
      case 'group-receipt':
        if (rec && headOf(rec.view).members.includes(from)) effect.updated = await this.receipt(tx, group, from, payload.status, payload.ids);
        return effect;
      case 'group-text': {
        // Held when its writer is not (yet) a member here and wrote under a change not heard of
        // yet: a new member's first words can overtake the change that added them.
        if (!rec || (!headOf(rec.view).members.includes(from) && !knowsChange(rec.view, payload.head))) {
          await this.hold(tx, group, { from, payload });
          return effect;
        }
        const stored = await this.storeText(tx, rec, from, payload, visible(group));
        if (stored) effect.texts.push(stored);
        return effect;
      }
      case 'group-change': {
        const change = payload.change;
        let next: GroupRecord;
        let outcome: ReceiveOutcome;
        if (!rec) {
          // Only a change that adds this account makes a group appear; anything else is noise.
          if (change.by !== from || !change.members.includes(this.me)) return effect;
          next = { view: startView(change), accepted: from === this.me, ...(from === this.me ? {} : { invitedBy: from }) };
          outcome = { kind: 'applied', head: change, previous: change };
          meta.put(next, this.key(`group:${group}`));
          await this.addLines(tx, group, describeChange(undefined, change, this.me), change.at);
        } else {
          const r = receiveChange(rec.view, change, from, this.me);
          outcome = r.outcome;
          next = { ...rec, view: r.view };
          if (r.view !== rec.view) meta.put(next, this.key(`group:${group}`));
          if (outcome.kind === 'applied') await this.addLines(tx, group, this.linesFor(r.view, outcome.previous, outcome.head), change.at);
          if (outcome.kind === 'refused') await this.addLines(tx, group, [`Refused a change to the group from ${from}: ${REFUSAL_TEXT[outcome.reason]}.`], Date.now());
          if (outcome.kind === 'superseded' && from !== this.me) {
            await this.addLines(tx, group, [`A change by ${from} was not applied: it crossed with a newer one.`], change.at);
          }
        }
        effect.changed = outcome.kind !== 'duplicate' && outcome.kind !== 'waiting';
        if (outcome.kind === 'applied' || outcome.kind === 'superseded') effect.texts.push(...(await this.release(tx, next, visible(group))));
        return effect;
      }
    }
  }

  /**
   * Lines for the head moving from `previous` to `head`. When it moved sideways (two changes of
   * the same version crossed, and the other won), the diff between the two siblings would read
   * as changes nobody made: it says what the winner did, and that the other was not applied.
   */
  private linesFor(view: GroupView, previous: GroupChange, head: GroupChange): string[] {
    const parent = head.parent === null || head.parentBy === null ? undefined : view.changes[keyOf({ id: head.parent, by: head.parentBy })];
    if (!parent || (head.parent === previous.id && head.parentBy === previous.by) || parent.version >= previous.version) return describeChange(previous, head, this.me);
    const lost = previous.by === this.me ? 'Your change was not applied' : `A change by ${previous.by} was not applied`;
    return [...describeChange(parent, head, this.me), `${lost}: it crossed with one by ${head.by === this.me ? 'you' : head.by}.`];
  }

  private async hold(tx: IDBTransaction, group: string, held: HeldText): Promise<void> {
    const meta = tx.objectStore('meta');
    const all = ((await request(meta.get(this.key(`group-held:${group}`)))) as HeldText[] | undefined) ?? [];
    if (all.some((h) => h.payload.id === held.payload.id && h.from === held.from)) return;
    meta.put([...all, held].slice(-MAX_HELD_TEXTS), this.key(`group-held:${group}`));
  }

  /** Texts held for a change that has now arrived. */
  private async release(tx: IDBTransaction, rec: GroupRecord, visible: boolean): Promise<MessageRecord[]> {
    const group = rec.view.group;
    const meta = tx.objectStore('meta');
    const all = ((await request(meta.get(this.key(`group-held:${group}`)))) as HeldText[] | undefined) ?? [];
    if (all.length === 0) return [];
    const members = headOf(rec.view).members;
    const isReady = (h: HeldText) => knowsChange(rec.view, h.payload.head) || members.includes(h.from);
    const ready = all.filter(isReady);
    const still = all.filter((h) => !isReady(h));
    if (still.length) meta.put(still, this.key(`group-held:${group}`));
    else meta.delete(this.key(`group-held:${group}`));
    const out: MessageRecord[] = [];
    for (const h of ready) {
      const m = await this.storeText(tx, rec, h.from, h.payload, visible);
      if (m) out.push(m);
    }
    return out;
  }

  /** Stores a text from a member (or a copy of this account's own); undefined when it is refused or a repeat. */
  private async storeText(tx: IDBTransaction, rec: GroupRecord, from: string, p: GroupText, visible: boolean): Promise<MessageRecord | undefined> {
    const head = headOf(rec.view);
    // A removed member's words, and anything once this account is out of the group, are not shown.
    if (!head.members.includes(from) || !head.members.includes(this.me)) return undefined;
    const peer = groupConversation(p.group);
    const messages = tx.objectStore('messages');
    if (await request(messages.get([this.userId, peer, p.id]))) return undefined;
    const own = from === this.me;
    const message: MessageRecord = own
      ? { id: p.id, peer, direction: 'out', text: p.text, at: p.sentAt, seq: p.seq, state: 'sent', group: { to: head.members.filter((m) => m !== this.me), delivered: [], read: [] } }
      : { id: p.id, peer, direction: 'in', from, text: p.text, at: p.sentAt, seq: p.seq, read: visible };
    messages.put(message, [this.userId, peer, p.id]);
    const convos = tx.objectStore('conversations');
    const c = (await request(convos.get([this.userId, peer]))) as ConversationRecord | undefined;
    const newer = !c || p.sentAt >= c.lastAt;
    convos.put(
      {
        peer,
        lastAt: newer ? p.sentAt : c.lastAt,
        lastText: newer ? (own ? p.text : `${from}: ${p.text}`) : c.lastText,
        lastDirection: newer ? (own ? 'out' : 'in') : c.lastDirection,
        unread: (c?.unread ?? 0) + (own || visible ? 0 : 1),
        nextSeq: own ? Math.max(c?.nextSeq ?? 0, p.seq + 1) : (c?.nextSeq ?? 0),
      } satisfies ConversationRecord,
      [this.userId, peer],
    );
    return own ? undefined : message;
  }

  private async receipt(tx: IDBTransaction, group: string, from: string, status: 'delivered' | 'read', ids: string[]): Promise<MessageRecord[]> {
    const peer = groupConversation(group);
    const messages = tx.objectStore('messages');
    const updated: MessageRecord[] = [];
    for (const id of ids) {
      const m = (await request(messages.get([this.userId, peer, id]))) as MessageRecord | undefined;
      if (!m?.group || m.direction !== 'out' || !m.group.to.includes(from)) continue;
      const delivered = m.group.delivered.includes(from) ? m.group.delivered : [...m.group.delivered, from];
      const read = status === 'read' && !m.group.read.includes(from) ? [...m.group.read, from] : m.group.read;
      if (delivered === m.group.delivered && read === m.group.read) continue;
      const next: MessageRecord = { ...m, state: m.state === 'sending' || m.state === 'failed' ? 'sent' : m.state, group: { ...m.group, delivered, read } };
      messages.put(next, [this.userId, peer, id]);
      updated.push(next);
    }
    return updated;
  }

  /** Lines in the group's conversation (changes, refusals): shown to this person only. */
  private async addLines(tx: IDBTransaction, group: string, lines: string[], at: number): Promise<MessageRecord[]> {
    const peer = groupConversation(group);
    const messages = tx.objectStore('messages');
    const out: MessageRecord[] = [];
    let n = 0;
    for (const text of lines) {
      const id = `line-${at}-${n++}-${encodeBase64url(webRandom(6))}`;
      const m = eventLine(peer, id, text, at);
      messages.put(m, [this.userId, peer, id]);
      out.push(m);
    }
    const convos = tx.objectStore('conversations');
    const c = (await request(convos.get([this.userId, peer]))) as ConversationRecord | undefined;
    if (!c) convos.put({ peer, lastAt: at, lastText: lines.at(-1) ?? '', lastDirection: 'in', unread: 0, nextSeq: 0, lastIsCall: true } satisfies ConversationRecord, [this.userId, peer]);
    return out;
  }
}
