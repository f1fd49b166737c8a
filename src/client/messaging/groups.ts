// Groups (issue #18, DESIGN.md "Groups (v2)"): client-side fan-out over the pairwise sessions.
// A group text is one outbox entry per member (the outbox then seals it for each of that
// member's browsers) and one for this account's other browsers; a change of the group is sent
// the same way to every member old and new. The server sees pairwise envelopes as for any
// one-to-one message: no group id, name or member list ever leaves the ratchet.
import type { Payload } from '../../wire/index.ts';
import { groupConversation, MAX_GROUP_MEMBERS } from '../../wire/index.ts';
import { addOwnChange, changeRecipients, createGroup, GroupRuleError, headOf, leaveChange, proposeChange, recipientsOf, startView, type GroupChange } from '../../protocol/group-state.ts';
import type { HistoryStore, MessageRecord, OutboxEntry } from '../platform/history-store.ts';
import type { GroupEffect, GroupRecord, GroupStore } from '../platform/group-store.ts';
import { newId } from './ids.ts';
import type { Outbox } from './outbox.ts';

export { GroupRuleError, MAX_GROUP_MEMBERS };

const RECEIPT_DELAY_MS = 50;

export class GroupService {
  private readonly pending = new Map<string, { delivered: string[]; read: string[] }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Group texts already marked sent in this page (the rest of the members' handovers change nothing). */
  private readonly markedSent = new Set<string>();

  constructor(
    private readonly store: GroupStore,
    private readonly history: HistoryStore,
    private readonly outbox: Outbox,
    private readonly me: string,
    private readonly readReceipts: () => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  get(group: string): Promise<GroupRecord | undefined> {
    return this.store.get(group);
  }

  all(): Promise<GroupRecord[]> {
    return this.store.all();
  }

  /** Makes a group of this account and `members`; returns its id. */
  async create(name: string, members: readonly string[]): Promise<string> {
    const group = newId();
    const change = createGroup({ group, id: newId(), by: this.me, name: name.trim(), members, at: this.now() });
    await this.commit({ view: startView(change), accepted: true }, undefined, change);
    return group;
  }

  rename(group: string, name: string): Promise<void> {
    return this.change(group, (head) => ({ name: name.trim() || head.name }));
  }

  add(group: string, member: string): Promise<void> {
    return this.change(group, (head) => ({ members: [...head.members, member] }));
  }

  remove(group: string, member: string): Promise<void> {
    return this.change(group, (head) => ({ members: head.members.filter((m) => m !== member), admins: head.admins.filter((a) => a !== member) }));
  }

  makeAdmin(group: string, member: string): Promise<void> {
    return this.change(group, (head) => ({ admins: [...head.admins, member] }));
  }

  async leave(group: string): Promise<void> {
    const rec = await this.required(group);
    const head = headOf(rec.view);
    if (!head.members.includes(this.me)) return;
    const change = leaveChange(head, this.me, newId(), this.now());
    await this.commit({ ...rec, view: addOwnChange(rec.view, change) }, head, change);
  }

  /**
   * `member` has new keys (a new browser, a reset) and the person accepted them: that browser
   * knows nothing of the groups, so each group this account administers is sent again as it
   * is, in a change that alters nothing, which brings it back there.
   */
  async resendTo(member: string): Promise<void> {
    for (const rec of await this.store.all()) {
      const head = headOf(rec.view);
      if (head.members.includes(member) && head.admins.includes(this.me)) await this.change(rec.view.group, () => ({}));
    }
  }

  accept(group: string): Promise<void> {
    return this.store.setAccepted(group);
  }

  /** Stores the text, then hands it to the outbox for every other member and this account's other browsers. */
  async sendText(group: string, text: string): Promise<MessageRecord> {
    const rec = await this.required(group);
    const head = headOf(rec.view);
    if (!head.members.includes(this.me)) throw new GroupRuleError('not-member', 'You are no longer in this group.');
    const id = newId();
    const at = this.now();
    const to = recipientsOf(head, this.me);
    let entries: OutboxEntry[] = [];
    const message = await this.store.addOutgoingText(group, id, text, at, to, (seq) => {
      const payload: Payload = { type: 'group-text', group, head: head.id, id, text, sentAt: at, seq };
      entries = [...to, this.me].map((peer) => this.entry(peer, payload, at));
      return entries;
    });
    void this.outbox.burst(entries).catch(() => undefined);
    return message;
  }

  /** Typing in a group, to the members `online` says are there now; never queued. */
  typingTo(group: string, members: readonly string[], send: (peer: string, p: Payload) => void, active: boolean): void {
    for (const m of members) if (m !== this.me) send(m, { type: 'group-typing', group, active });
  }

  /** The outbox handed a group text to the server for one member: it is sent (marked once, not once per member). */
  async handedOver(entry: OutboxEntry): Promise<MessageRecord[]> {
    if (entry.payload.type !== 'group-text' || entry.peer === this.me || this.markedSent.has(entry.payload.id)) return [];
    this.markedSent.add(entry.payload.id);
    if (this.markedSent.size > 1_000) this.markedSent.delete(this.markedSent.values().next().value!);
    return this.history.setState(groupConversation(entry.payload.group), [entry.payload.id], 'sent');
  }

  /** After a group payload was stored: confirm new texts to their senders (and read, if on screen). */
  afterReceive(from: string, effect: GroupEffect, reading: boolean, accepted: boolean): void {
    if (from === this.me) return;
    for (const m of effect.texts) {
      this.queue(m.from ?? from, effect.group, 'delivered', m.id);
      if (reading && accepted && this.readReceipts()) this.queue(m.from ?? from, effect.group, 'read', m.id);
    }
  }

  /** The group's conversation is on screen: read receipts to each sender, read marks to this account's other browsers. */
  async markRead(group: string, accepted: boolean): Promise<void> {
    const conversation = groupConversation(group);
    // Lines about the group are stored read, so only members' messages come back here.
    const marked = await this.history.markRead(conversation);
    if (marked.length === 0) return;
    if (accepted && this.readReceipts()) {
      for (const m of marked) if (m.from) this.queue(m.from, group, 'read', m.id);
    }
    await this.outbox.sendReadSync(conversation, marked.map((m) => m.id));
  }

  private queue(to: string, group: string, status: 'delivered' | 'read', id: string): void {
    const key = `${to}\n${group}`;
    const p = this.pending.get(key) ?? { delivered: [], read: [] };
    p[status].push(id);
    this.pending.set(key, p);
    this.timer ??= setTimeout(() => void this.flush(), RECEIPT_DELAY_MS);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const all = [...this.pending];
    this.pending.clear();
    const at = this.now();
    for (const [key, lists] of all) {
      const [to, group] = key.split('\n') as [string, string];
      for (const status of ['delivered', 'read'] as const) {
        const ids = [...new Set(lists[status])];
        for (let i = 0; i < ids.length; i += 100) {
          await this.history.addOutbox(this.entry(to, { type: 'group-receipt', group, status, ids: ids.slice(i, i + 100) }, at));
        }
      }
      this.outbox.kick(to);
    }
  }

  private async change(group: string, edit: (head: GroupChange) => { name?: string; members?: readonly string[]; admins?: readonly string[] }): Promise<void> {
    const rec = await this.required(group);
    const head = headOf(rec.view);
    const change = proposeChange(head, this.me, edit(head), newId(), this.now());
    await this.commit({ ...rec, view: addOwnChange(rec.view, change) }, head, change);
  }

  /** Writes the change with one entry for each member before and after it, and for this account's other browsers. */
  private async commit(record: GroupRecord, previous: GroupChange | undefined, change: GroupChange): Promise<void> {
    const to = [...changeRecipients(previous, change, this.me), this.me];
    const payload: Payload = { type: 'group-change', change };
    // This account's own entry goes last: its other browsers learn of it after the members.
    const entries = to.map((peer) => this.entry(peer, payload, change.at));
    await this.store.commitOwn(record, previous, change, entries);
    for (const peer of to) this.outbox.kick(peer);
  }

  private entry(peer: string, payload: Payload, at: number): OutboxEntry {
    return { id: newId(), peer, payload, createdAt: at, viaChannelAt: null, serverStored: false, channelOnly: false };
  }

  private async required(group: string): Promise<GroupRecord> {
    const rec = await this.store.get(group);
    if (!rec) throw new GroupRuleError('not-member', 'This group is not on this browser.');
    return rec;
  }
}
