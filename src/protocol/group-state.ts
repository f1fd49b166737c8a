// A group's name, members and admins (DESIGN.md "Groups (v2)"), kept by each member from the
// changes admins send over the pairwise sessions. The server never sees any of it.
//
// Every change carries the whole new state, the change it was made on (`parent`) and a version
// one above its parent's. A member keeps every valid change it has heard of and derives the
// group from that set alone: the head is the valid change with the highest version, the
// smallest id breaking a tie. Two admins changing the group at once make two changes of the
// same version; whichever order they arrive in, every member ends with the same head. The
// loser's author sees its change was not applied and may make it again on the new head.
//
// A change is valid when its parent is valid, its version is the parent's + 1, and its author
// was an admin in the parent, or is a member leaving (the one change a non-admin may make).
// The pairwise session authenticates the author: a change counts only from the browser of
// the account that made it (checked by the caller, `receive`'s `sender`).
import { MAX_GROUP_MEMBERS, MAX_GROUP_NAME_CHARS, type GroupChange } from '../wire/group.ts';

export { MAX_GROUP_MEMBERS, MAX_GROUP_NAME_CHARS, type GroupChange };

export type GroupRefusal = 'forged' | 'not-admin' | 'not-member' | 'bad-version' | 'invalid' | 'other-group';

export class GroupRuleError extends Error {
  constructor(
    readonly reason: GroupRefusal | 'too-many',
    message: string,
  ) {
    super(message);
    this.name = 'GroupRuleError';
  }
}

/** A change's key in a view: its author and its id (keyOf), or its parent's (parentKeyOf). */
export const keyOf = (c: { id: string; by: string }): string => `${c.by}/${c.id}`;
const parentKeyOf = (c: GroupChange): string | null => (c.parent === null || c.parentBy === null ? null : `${c.parentBy}/${c.parent}`);

/** What one member knows of one group. */
export interface GroupView {
  group: string;
  /** Valid changes, by keyOf. The first one this member saw needs no parent (it joined there). */
  changes: Record<string, GroupChange>;
  /** The change this member started from: the creation, or the one that added it. */
  root: string;
  /** Changes whose parent has not arrived yet (another admin's message may still be on its way). */
  waiting: GroupChange[];
}

export type ReceiveOutcome =
  | { kind: 'applied'; head: GroupChange; previous: GroupChange }
  /** Valid, but the head did not move to it: it crossed with (or is older than) the head. */
  | { kind: 'superseded'; head: GroupChange }
  | { kind: 'duplicate' }
  | { kind: 'waiting' }
  | { kind: 'refused'; reason: GroupRefusal };

/** Changes waiting for their parent, per group and per sender: bounds against a flood. */
export const MAX_WAITING_CHANGES = 64;
export const MAX_WAITING_PER_SENDER = 16;

function sortedUnique(names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The state a member leaving makes: without them, and an admin still there if anyone is. */
export function leaveState(parent: GroupChange, who: string): { name: string; members: string[]; admins: string[] } {
  const members = parent.members.filter((m) => m !== who);
  let admins = parent.admins.filter((a) => a !== who);
  // The last admin leaving hands the group to the first remaining member, so it is never stuck.
  if (admins.length === 0 && members.length > 0) admins = [members[0]!];
  return { name: parent.name, members, admins };
}

/** Why `change` may not follow `parent`, or null when it may. */
export function checkChange(parent: GroupChange, change: GroupChange): GroupRefusal | null {
  if (change.group !== parent.group) return 'other-group';
  if (change.parent !== parent.id || change.parentBy !== parent.by || change.version !== parent.version + 1) return 'bad-version';
  if (!wellFormed(change)) return 'invalid';
  if (parent.admins.includes(change.by)) return null;
  if (!parent.members.includes(change.by)) return 'not-member';
  const leave = leaveState(parent, change.by);
  if (change.name === leave.name && sameList(change.members, leave.members) && sameList(change.admins, leave.admins)) return null;
  return 'not-admin';
}

function wellFormed(c: GroupChange): boolean {
  return (
    sameList(c.members, sortedUnique(c.members)) &&
    sameList(c.admins, sortedUnique(c.admins)) &&
    c.members.length <= MAX_GROUP_MEMBERS &&
    c.admins.every((a) => c.members.includes(a)) &&
    (c.members.length === 0 || c.admins.length > 0)
  );
}

/** The group's first change, made by its creator, who is its first admin. */
export function createGroup(p: { group: string; id: string; by: string; name: string; members: readonly string[]; at: number }): GroupChange {
  const members = sortedUnique([p.by, ...p.members]);
  if (members.length > MAX_GROUP_MEMBERS) throw new GroupRuleError('too-many', `A group has at most ${MAX_GROUP_MEMBERS} members.`);
  return { group: p.group, id: p.id, parent: null, parentBy: null, version: 1, by: p.by, name: p.name, members, admins: [p.by], at: p.at };
}

/**
 * A change made on `head` by `by`: a new name, members or admins (what is not given stays).
 * Throws GroupRuleError for what the rules refuse, so the UI can say why before anything is sent.
 */
export function proposeChange(
  head: GroupChange,
  by: string,
  next: { name?: string; members?: readonly string[]; admins?: readonly string[] },
  id: string,
  at: number,
): GroupChange {
  const members = sortedUnique(next.members ?? head.members);
  if (members.length > MAX_GROUP_MEMBERS) throw new GroupRuleError('too-many', `A group has at most ${MAX_GROUP_MEMBERS} members.`);
  const admins = sortedUnique(next.admins ?? head.admins).filter((a) => members.includes(a));
  const change: GroupChange = { group: head.group, id, parent: head.id, parentBy: head.by, version: head.version + 1, by, name: next.name ?? head.name, members, admins, at };
  const refusal = checkChange(head, change);
  if (refusal === 'not-admin' || refusal === 'not-member') throw new GroupRuleError(refusal, 'Only an admin of the group can change it.');
  if (refusal) throw new GroupRuleError(refusal, 'That change would leave the group without an admin.');
  return change;
}

/** `who` leaves the group made by `head`. */
export function leaveChange(head: GroupChange, who: string, id: string, at: number): GroupChange {
  return { group: head.group, id, parent: head.id, parentBy: head.by, version: head.version + 1, by: who, ...leaveState(head, who), at };
}

/**
 * Who a member's text goes to: every other member of the group as this member has it, and no
 * one else. A member removed by `head` is not among them, which is all forward secrecy after a
 * removal needs here: the pairwise sessions already keep each envelope to its one recipient.
 */
export function recipientsOf(head: GroupChange, me: string): string[] {
  return head.members.filter((m) => m !== me);
}

/** Who a change goes to: every member before it and after it (a removed one learns of it), but its author. */
export function changeRecipients(previous: GroupChange | undefined, change: GroupChange, me: string): string[] {
  return [...new Set([...(previous?.members ?? []), ...change.members])].filter((m) => m !== me);
}

/** A member's view of a group that starts at `first` (its creation, or the change that added it). */
export function startView(first: GroupChange): GroupView {
  return { group: first.group, changes: { [keyOf(first)]: first }, root: keyOf(first), waiting: [] };
}

/** The group as the member's view has it: the highest version, the smallest id on a tie (then the author's name). */
export function headOf(view: GroupView): GroupChange {
  let head: GroupChange | undefined;
  for (const c of Object.values(view.changes)) {
    if (!head || c.version > head.version || (c.version === head.version && (c.id < head.id || (c.id === head.id && c.by < head.by)))) head = c;
  }
  return head!;
}

/** Whether the view holds a change with this id (by anyone): a text names the change it was written under by id. */
export function knowsChange(view: GroupView, id: string): boolean {
  return Object.values(view.changes).some((c) => c.id === id);
}

/**
 * Takes a change that came from `sender` over the pairwise session. Returns the new view (the
 * argument is not modified) and what became of the change.
 */
export function receiveChange(view: GroupView, change: GroupChange, sender: string, me: string): { view: GroupView; outcome: ReceiveOutcome } {
  if (change.by !== sender) return { view, outcome: { kind: 'refused', reason: 'forged' } };
  if (change.group !== view.group) return { view, outcome: { kind: 'refused', reason: 'other-group' } };
  const key = keyOf(change);
  if (view.changes[key] || view.waiting.some((w) => keyOf(w) === key)) return { view, outcome: { kind: 'duplicate' } };
  if (!wellFormed(change)) return { view, outcome: { kind: 'refused', reason: 'invalid' } };
  const before = headOf(view);
  const parentKey = parentKeyOf(change);
  const parent = parentKey === null ? undefined : view.changes[parentKey];
  if (!parent) {
    const known = Object.values(view.changes).some((c) => c.members.includes(sender));
    // A second creation of the group: from someone in none of its versions, a stranger's.
    if (change.parent === null) return { view, outcome: { kind: 'refused', reason: known ? 'bad-version' : 'not-member' } };
    // Added again after being removed (or after a removal that lost a crossing): the changes in
    // between may never come here, so the change that brings the member back is taken as it
    // is, from an admin of the group as the member last had it; what it was made on is taken
    // in if it comes later.
    if (before.admins.includes(sender) && !before.members.includes(me) && change.members.includes(me) && change.version > before.version) {
      const next = settleWaiting({ ...view, changes: { ...view.changes, [key]: change } });
      return { view: next, outcome: { kind: 'applied', head: headOf(next), previous: before } };
    }
    // Joined part-way (added by a change that lost a crossing, say): what came before the change
    // this member started from never comes here, so an admin's change that includes the member
    // and is no newer than that start is taken as it is, instead of waiting for good.
    const root = view.changes[view.root];
    const knownAdmin = Object.values(view.changes).some((c) => c.admins.includes(sender));
    if (root && root.parent !== null && change.version <= root.version && change.members.includes(me) && knownAdmin) {
      const next = settleWaiting({ ...view, changes: { ...view.changes, [key]: change } });
      const head = headOf(next);
      return { view: next, outcome: keyOf(head) === keyOf(before) ? { kind: 'superseded', head } : { kind: 'applied', head, previous: before } };
    }
    // Made on a change that has not arrived yet: possibly by an admin this member has not heard
    // of yet either (added in that change), so it waits, a few per sender, however few it knows.
    if (parentKey === null) return { view, outcome: { kind: 'refused', reason: 'bad-version' } };
    const fromSender = view.waiting.filter((w) => w.by === sender);
    const waiting = [...view.waiting.filter((w) => w !== fromSender[0] || fromSender.length < MAX_WAITING_PER_SENDER), change].slice(-MAX_WAITING_CHANGES);
    return { view: { ...view, waiting }, outcome: { kind: 'waiting' } };
  }
  const refusal = checkChange(parent, change);
  if (refusal) return { view, outcome: { kind: 'refused', reason: refusal } };
  let next: GroupView = { ...view, changes: { ...view.changes, [key]: change } };
  next = settleWaiting(next);
  const head = headOf(next);
  if (keyOf(head) === keyOf(before)) return { view: next, outcome: { kind: 'superseded', head } };
  return { view: next, outcome: { kind: 'applied', head, previous: before } };
}

/** Takes in the waiting changes whose parent is now known, as long as any is. */
function settleWaiting(view: GroupView): GroupView {
  let current = view;
  for (;;) {
    const ready = current.waiting.find((w) => {
      const k = parentKeyOf(w);
      return k !== null && current.changes[k];
    });
    if (!ready) return current;
    const waiting = current.waiting.filter((w) => w !== ready);
    const ok = checkChange(current.changes[parentKeyOf(ready)!]!, ready) === null;
    current = { ...current, waiting, changes: ok ? { ...current.changes, [keyOf(ready)]: ready } : current.changes };
  }
}

/** Adds a change this member made itself (already checked by proposeChange or leaveChange). */
export function addOwnChange(view: GroupView, change: GroupChange): GroupView {
  return { ...view, changes: { ...view.changes, [keyOf(change)]: change } };
}
