// The rules of a group's state (src/protocol/group-state.ts): who may change what, what is
// refused and why, and that every member ends with the same group whatever order the changes
// reach them in (fast-check over delivery orders of random trees of concurrent changes).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  changeRecipients,
  createGroup,
  GroupRuleError,
  headOf,
  leaveChange,
  MAX_GROUP_MEMBERS,
  proposeChange,
  receiveChange,
  recipientsOf,
  startView,
  type GroupChange,
  type GroupView,
} from '../../src/protocol/group-state.ts';
import { groupChange } from '../../src/wire/group.ts';

const GROUP = 'G'.repeat(22);
let counter = 0;
/** A fresh 22-character id; `rank` lets a test choose which of two sorts first. */
const newId = (rank = 'm') => `${rank}${String(counter++).padStart(21, '0')}`;

function made(by = 'alice', members = ['bob', 'carol', 'dave']): { view: GroupView; created: GroupChange } {
  const created = createGroup({ group: GROUP, id: newId('a'), by, name: 'Book club', members, at: 1 });
  return { view: startView(created), created };
}

const ids = (v: GroupView) => Object.values(v.changes).map((c) => c.id).sort();

/** The GroupRuleError `fn` throws (fails the test when it throws nothing, or something else). */
function ruleError(fn: () => unknown): GroupRuleError {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(GroupRuleError);
  return error as GroupRuleError;
}

/** Delivers each change from its author, in the order given; returns the view and every outcome kind. */
function deliverAll(first: GroupChange, order: readonly GroupChange[], me: string): { view: GroupView; kinds: string[] } {
  let view = startView(first);
  const kinds: string[] = [];
  for (const c of order) {
    const r = receiveChange(view, c, c.by, me);
    view = r.view;
    kinds.push(r.outcome.kind === 'refused' ? `refused:${r.outcome.reason}` : r.outcome.kind);
  }
  return { view, kinds };
}

const others = (n: number) => Array.from({ length: n }, (_, i) => `user${String(i).padStart(3, '0')}`);

describe('createGroup', () => {
  it('makes its creator the only admin and sorts the members, the creator among them', () => {
    const { created } = made('dave', ['carol', 'bob', 'carol']);
    expect(created.members).toEqual(['bob', 'carol', 'dave']);
    expect(created.admins).toEqual(['dave']);
    expect([created.version, created.parent, created.by, created.name]).toEqual([1, null, 'dave', 'Book club']);
    expect(groupChange.safeParse(created).success).toBe(true);
  });

  it('counts the creator against the limit: 100 members are fine, 101 are refused as too many', () => {
    const full = createGroup({ group: GROUP, id: newId(), by: 'alice', name: 'Full', members: others(MAX_GROUP_MEMBERS - 1), at: 1 });
    expect(full.members).toHaveLength(100);
    expect(full.members).toContain('alice');
    // Naming the creator again among the members does not count twice.
    expect(createGroup({ group: GROUP, id: newId(), by: 'alice', name: 'Full', members: ['alice', ...others(99)], at: 1 }).members).toHaveLength(100);
    const error = ruleError(() => createGroup({ group: GROUP, id: newId(), by: 'alice', name: 'Too many', members: others(MAX_GROUP_MEMBERS), at: 1 }));
    expect(error.reason).toBe('too-many');
    expect(error.message).toBe('A group has at most 100 members.');
    // The wire refuses a 101st member too, whoever sends it.
    expect(groupChange.safeParse({ ...full, members: others(101) }).success).toBe(false);
  });
});

describe('proposeChange', () => {
  it('lets an admin add, remove, rename and make admins, each on the one before', () => {
    const { created } = made();
    const added = proposeChange(created, 'alice', { members: [...created.members, 'erin'] }, newId(), 2);
    expect(added.members).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
    expect([added.version, added.parent, added.by, added.group, added.at]).toEqual([2, created.id, 'alice', GROUP, 2]);
    expect([added.name, added.admins]).toEqual(['Book club', ['alice']]);
    const removed = proposeChange(added, 'alice', { members: added.members.filter((m) => m !== 'bob') }, newId(), 3);
    expect(removed.members).toEqual(['alice', 'carol', 'dave', 'erin']);
    expect(removed.version).toBe(3);
    const renamed = proposeChange(removed, 'alice', { name: 'Reading club' }, newId(), 4);
    expect([renamed.name, renamed.members, renamed.admins]).toEqual(['Reading club', removed.members, ['alice']]);
    const promoted = proposeChange(renamed, 'alice', { admins: [...renamed.admins, 'carol'] }, newId(), 5);
    expect(promoted.admins).toEqual(['alice', 'carol']);
    for (const c of [added, removed, renamed, promoted]) expect(groupChange.safeParse(c).success).toBe(true);
    // Carol is an admin now and may change it; Dave is not.
    expect(proposeChange(promoted, 'carol', { name: 'Carol’s club' }, newId(), 6).name).toBe('Carol’s club');
    // Removing an admin from the members takes them off the admins too.
    expect(proposeChange(promoted, 'alice', { members: ['alice', 'dave', 'erin'] }, newId(), 6).admins).toEqual(['alice']);
  });

  it('refuses a non-admin, a stranger, and a change that leaves members without an admin', () => {
    const { created } = made();
    const byDave = ruleError(() => proposeChange(created, 'dave', { name: 'Dave’s club' }, newId(), 2));
    expect(byDave.reason).toBe('not-admin');
    expect(byDave.message).toMatch(/Only an admin/);
    expect(ruleError(() => proposeChange(created, 'mallory', { members: [...created.members, 'mallory'] }, newId(), 2)).reason).toBe('not-member');
    const noAdmin = ruleError(() => proposeChange(created, 'alice', { admins: [] }, newId(), 2));
    expect(noAdmin.reason).toBe('invalid');
    expect(noAdmin.message).toMatch(/without an admin/);
    // The only admin removing themself from the members does the same.
    expect(ruleError(() => proposeChange(created, 'alice', { members: ['bob', 'carol', 'dave'] }, newId(), 2)).reason).toBe('invalid');
    // Beyond the limit.
    expect(ruleError(() => proposeChange(created, 'alice', { members: [...created.members, ...others(97)] }, newId(), 2)).reason).toBe('too-many');
    // A non-admin may make exactly their own leave, and nothing else.
    const leave = proposeChange(created, 'dave', { members: ['alice', 'bob', 'carol'] }, newId(), 2);
    expect([leave.by, leave.members, leave.admins]).toEqual(['dave', ['alice', 'bob', 'carol'], ['alice']]);
  });
});

describe('receiveChange refuses, and leaves the view as it was', () => {
  const { view, created } = made();
  const ok = proposeChange(created, 'alice', { name: 'Renamed' }, newId(), 2);
  const cases: Array<[string, GroupChange, string, string]> = [
    ['a sender who is not the author', ok, 'bob', 'forged'],
    ['a non-admin’s rename', { ...ok, by: 'bob' }, 'bob', 'not-admin'],
    ['a “leave” by a non-admin that also renames', { ...leaveChange(created, 'bob', newId(), 2), name: 'Bob’s now' }, 'bob', 'not-admin'],
    ['a non-admin leaving someone else out', { ...leaveChange(created, 'carol', newId(), 2), by: 'bob' }, 'bob', 'not-admin'],
    ['a version two above its parent', { ...ok, version: created.version + 2 }, 'alice', 'bad-version'],
    ['a version equal to its parent', { ...ok, version: created.version }, 'alice', 'bad-version'],
    ['a stranger’s change on a known parent', { ...ok, by: 'mallory', members: [...ok.members, 'mallory'].sort() }, 'mallory', 'not-member'],
    ['a stranger’s second creation (no parent)', { ...created, id: newId(), by: 'mallory', members: ['mallory'], admins: ['mallory'] }, 'mallory', 'not-member'],
    ['a member’s second creation', { ...created, id: newId() }, 'alice', 'bad-version'],
    ['unsorted members', { ...ok, members: ['dave', 'alice', 'bob', 'carol'] }, 'alice', 'invalid'],
    ['a repeated member', { ...ok, members: ['alice', 'bob', 'bob', 'carol', 'dave'] }, 'alice', 'invalid'],
    ['an admin who is not a member', { ...ok, admins: ['alice', 'zed'] }, 'alice', 'invalid'],
    ['members without an admin', { ...ok, admins: [] }, 'alice', 'invalid'],
    ['more than 100 members', { ...ok, members: ['alice', ...others(100)] }, 'alice', 'invalid'],
    ['another group', { ...ok, group: 'H'.repeat(22) }, 'alice', 'other-group'],
  ];
  for (const [what, change, sender, reason] of cases) {
    it(`${what}: ${reason}`, () => {
      const r = receiveChange(view, change, sender, 'carol');
      expect(r.outcome).toEqual({ kind: 'refused', reason });
      expect(r.view).toBe(view);
      expect(headOf(r.view).id).toBe(created.id);
      expect(ids(r.view)).toEqual([created.id]);
      expect(r.view.waiting).toEqual([]);
    });
  }

  it('a removed member’s change on the version that removed them: not-member', () => {
    const removed = proposeChange(created, 'alice', { members: ['alice', 'bob', 'carol'] }, newId(), 2);
    const v = receiveChange(view, removed, 'alice', 'carol').view;
    const r = receiveChange(v, leaveChange(removed, 'dave', newId(), 3), 'dave', 'carol');
    expect(r.outcome).toEqual({ kind: 'refused', reason: 'not-member' });
    expect(r.view).toBe(v);
    expect(headOf(r.view).id).toBe(removed.id);
  });

  it('a stranger’s change on a parent not heard of waits, and is dropped when the parent comes', () => {
    // It waits whoever sent it (its author may have been made admin there); a stranger's never applies.
    const stray = proposeChange(ok, 'alice', { name: 'Stray' }, newId(), 3);
    const r = receiveChange(view, { ...stray, by: 'mallory' }, 'mallory', 'carol');
    expect(r.outcome).toEqual({ kind: 'waiting' });
    expect(headOf(r.view).id).toBe(created.id);
    expect(ids(r.view)).toEqual([created.id]);
    const r2 = receiveChange(r.view, ok, 'alice', 'carol');
    expect(r2.outcome.kind).toBe('applied');
    expect(headOf(r2.view).id).toBe(ok.id);
    expect(ids(r2.view)).toEqual([created.id, ok.id].sort());
    expect(r2.view.waiting).toEqual([]);
  });

  it('keeps at most 16 waiting changes from one sender', () => {
    const stray = { ...ok, by: 'mallory', parent: newId(), version: 7 };
    let flooded = view;
    for (let i = 0; i < 40; i++) flooded = receiveChange(flooded, { ...stray, id: newId() }, 'mallory', 'carol').view;
    expect(flooded.waiting.length).toBe(16);
    expect(headOf(flooded).id).toBe(created.id);
    // An admin's waiting change is not pushed out by the flood.
    const second = proposeChange(created, 'alice', { name: 'Two' }, newId(), 2);
    const third = proposeChange(second, 'alice', { name: 'Three' }, newId(), 3);
    let v = receiveChange(view, third, 'alice', 'carol').view;
    for (let i = 0; i < 40; i++) v = receiveChange(v, { ...stray, id: newId() }, 'mallory', 'carol').view;
    v = receiveChange(v, second, 'alice', 'carol').view;
    expect(headOf(v).id).toBe(third.id);
  });
});

describe('receiveChange takes in', () => {
  it('a change once: again it is a duplicate, whether taken in or still waiting', () => {
    const { view, created } = made();
    expect(receiveChange(view, created, 'alice', 'carol')).toEqual({ view, outcome: { kind: 'duplicate' } });
    const second = proposeChange(created, 'alice', { name: 'Two' }, newId(), 2);
    const v = receiveChange(view, second, 'alice', 'carol').view;
    const again = receiveChange(v, second, 'alice', 'carol');
    expect(again.outcome).toEqual({ kind: 'duplicate' });
    expect(again.view).toBe(v);
    const third = proposeChange(second, 'alice', { name: 'Three' }, newId(), 3);
    const w = receiveChange(view, third, 'alice', 'carol').view;
    const waitingAgain = receiveChange(w, third, 'alice', 'carol');
    expect(waitingAgain.outcome).toEqual({ kind: 'duplicate' });
    expect(waitingAgain.view.waiting).toHaveLength(1);
  });

  it('any member’s own leave, and keeps the admins', () => {
    const { view, created } = made();
    const bobLeaves = leaveChange(created, 'bob', newId(), 2);
    expect([bobLeaves.version, bobLeaves.parent, bobLeaves.by]).toEqual([2, created.id, 'bob']);
    const r = receiveChange(view, bobLeaves, 'bob', 'carol');
    expect(r.outcome).toEqual({ kind: 'applied', head: bobLeaves, previous: created });
    expect(headOf(r.view).members).toEqual(['alice', 'carol', 'dave']);
    expect(headOf(r.view).admins).toEqual(['alice']);
  });

  it('the last admin leaving, which hands the group to the first remaining member', () => {
    const { view, created } = made('erin', ['dave', 'carol', 'bob']);
    const erinLeaves = leaveChange(created, 'erin', newId(), 2);
    expect(erinLeaves.admins).toEqual(['bob']);
    const r = receiveChange(view, erinLeaves, 'erin', 'carol');
    expect(r.outcome.kind).toBe('applied');
    expect(headOf(r.view).members).toEqual(['bob', 'carol', 'dave']);
    expect(headOf(r.view).admins).toEqual(['bob']);
    // Bob may now change it; Carol may not.
    const bobs = proposeChange(headOf(r.view), 'bob', { name: 'Bob’s' }, newId(), 3);
    expect(receiveChange(r.view, bobs, 'bob', 'carol').outcome.kind).toBe('applied');
    expect(receiveChange(r.view, { ...bobs, by: 'carol' }, 'carol', 'carol').outcome).toEqual({ kind: 'refused', reason: 'not-admin' });
    // An admin leaving while another stays hands nothing on.
    const promoted = proposeChange(created, 'erin', { admins: ['dave', 'erin'] }, newId(), 2);
    expect(leaveChange(promoted, 'erin', newId(), 3).admins).toEqual(['dave']);
    // The last member leaving leaves nobody, and no admin.
    const alone = createGroup({ group: GROUP, id: newId(), by: 'alice', name: 'Alone', members: [], at: 1 });
    const last = leaveChange(alone, 'alice', newId(), 2);
    const r2 = receiveChange(startView(alone), last, 'alice', 'alice');
    expect(r2.outcome.kind).toBe('applied');
    expect([headOf(r2.view).members, headOf(r2.view).admins]).toEqual([[], []]);
  });

  it('a change whose parent has not arrived once it has, and then the later one is the head', () => {
    const { view, created } = made();
    const second = proposeChange(created, 'alice', { name: 'Two' }, newId(), 2);
    const third = proposeChange(second, 'alice', { name: 'Three' }, newId(), 3);
    const r = receiveChange(view, third, 'alice', 'carol');
    expect(r.outcome).toEqual({ kind: 'waiting' });
    expect(headOf(r.view).id).toBe(created.id);
    expect(r.view.waiting).toEqual([third]);
    const r2 = receiveChange(r.view, second, 'alice', 'carol');
    expect(r2.outcome).toEqual({ kind: 'applied', head: third, previous: created });
    expect(headOf(r2.view).name).toBe('Three');
    expect(r2.view.waiting).toEqual([]);
    expect(ids(r2.view)).toEqual([created.id, second.id, third.id].sort());
  });

  it('a waiting change its parent does not allow is dropped when the parent comes', () => {
    const { view, created } = made();
    const second = proposeChange(created, 'alice', { name: 'Two' }, newId(), 2);
    const byBob = { ...proposeChange(second, 'alice', { name: 'Bob’s' }, newId(), 3), by: 'bob' };
    const v = receiveChange(view, byBob, 'bob', 'carol').view;
    const r = receiveChange(v, second, 'alice', 'carol');
    expect(r.outcome.kind).toBe('applied');
    expect(headOf(r.view).id).toBe(second.id);
    expect(r.view.waiting).toEqual([]);
    expect(ids(r.view)).toEqual([created.id, second.id].sort());
  });

  it('two changes that crossed: the smaller id is the head whichever came first; the other is superseded', () => {
    const { view, created } = made();
    const small = proposeChange(created, 'alice', { name: 'Small' }, newId('b'), 2);
    const big = proposeChange(created, 'alice', { name: 'Big' }, newId('c'), 2);
    const a = receiveChange(receiveChange(view, small, 'alice', 'carol').view, big, 'alice', 'carol');
    expect(a.outcome).toEqual({ kind: 'superseded', head: small });
    expect(ids(a.view)).toContain(big.id);
    const b1 = receiveChange(view, big, 'alice', 'carol');
    const b = receiveChange(b1.view, small, 'alice', 'carol');
    expect(b.outcome).toEqual({ kind: 'applied', head: small, previous: big });
    expect(ids(b.view)).toEqual(ids(a.view));
  });

  it('a valid change made on an old head, kept without moving the head', () => {
    const { view, created } = made();
    const second = proposeChange(created, 'alice', { name: 'Two' }, newId('b'), 2);
    const third = proposeChange(second, 'alice', { name: 'Three' }, newId(), 3);
    let v = receiveChange(view, second, 'alice', 'carol').view;
    v = receiveChange(v, third, 'alice', 'carol').view;
    // Made on the creation long after, with an id that would win a tie: it is still older.
    const late = proposeChange(created, 'alice', { name: 'Late' }, newId('a'), 4);
    const r = receiveChange(v, late, 'alice', 'carol');
    expect(r.outcome).toEqual({ kind: 'superseded', head: third });
    expect(headOf(r.view).id).toBe(third.id);
    expect(ids(r.view)).toEqual([created.id, second.id, third.id, late.id].sort());
  });
});

describe('a member who was removed and is added back', () => {
  function removedCarol() {
    const { view, created } = made();
    const removed = proposeChange(created, 'alice', { members: created.members.filter((m) => m !== 'carol') }, newId(), 2);
    const r = receiveChange(view, removed, 'alice', 'carol');
    expect(r.outcome.kind).toBe('applied');
    expect(headOf(r.view).members).not.toContain('carol');
    // Changes in between never reach Carol (she is in neither them nor what they were made on).
    const between = proposeChange(removed, 'alice', { name: 'Without Carol' }, newId(), 3);
    expect(changeRecipients(removed, between, 'alice')).not.toContain('carol');
    const back = proposeChange(between, 'alice', { members: [...between.members, 'carol'] }, newId(), 4);
    expect(changeRecipients(between, back, 'alice')).toContain('carol');
    return { view: r.view, created, removed, between, back };
  }

  it('starts again from the change that adds them back, whose parent they never saw', () => {
    const { view, between, back } = removedCarol();
    const r = receiveChange(view, back, 'alice', 'carol');
    expect(r.outcome.kind).toBe('applied');
    expect(headOf(r.view).id).toBe(back.id);
    expect(headOf(r.view).name).toBe('Without Carol');
    expect(recipientsOf(headOf(r.view), 'carol')).toEqual(['alice', 'bob', 'dave']);
    // What it was made on is taken in if it comes later, without moving the head back.
    const r2 = receiveChange(r.view, between, 'alice', 'carol');
    expect(r2.outcome).toEqual({ kind: 'superseded', head: back });
    expect(ids(r2.view)).toContain(between.id);
  });

  it('does not start again from such a change sent by someone who was never an admin', () => {
    const { view, back } = removedCarol();
    const r = receiveChange(view, { ...back, by: 'bob' }, 'bob', 'carol');
    expect(r.outcome).toEqual({ kind: 'waiting' });
    expect(headOf(r.view).members).not.toContain('carol');
  });

  it('does not start again from such a change no newer than what they have', () => {
    const { view, removed, back } = removedCarol();
    const old = { ...back, id: newId('a'), parent: newId(), version: removed.version };
    const r = receiveChange(view, old, 'alice', 'carol');
    expect(r.outcome).toEqual({ kind: 'waiting' });
    expect(headOf(r.view).id).toBe(removed.id);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over random trees of changes.

const NAMES = ['alice', 'bob', 'carol', 'dave', 'erin', 'fred'];
const POOL = ['gina', 'hugo', 'ivan', 'jane', 'kate', 'liam'];
/** Who receives: original members (never added back once gone) and two who may be added, removed and added again. */
const RECEIVERS = ['alice', 'bob', 'dave', 'gina', 'hugo'];

const idArb = fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJ'), minLength: 22, maxLength: 22 });

interface Tree {
  created: GroupChange;
  /** Every change after the creation, each after its parent. */
  changes: GroupChange[];
}

/**
 * A creation with 2–3 admins among 4–6 members (the creator promotes the others in version 2),
 * then changes each made on a random earlier change: by one of its admins (rename, add, remove
 * a non-admin, make admin) or by one of its members leaving.
 */
const treeArb: fc.Arbitrary<Tree> = fc
  .record({
    size: fc.integer({ min: 4, max: 6 }),
    admins: fc.integer({ min: 2, max: 3 }),
    promotion: idArb,
    steps: fc.array(
      fc.record({
        parent: fc.nat(),
        author: fc.nat(),
        kind: fc.constantFrom('rename', 'add', 'remove', 'admin', 'leave'),
        n: fc.nat(),
        id: idArb,
      }),
      { minLength: 1, maxLength: 14 },
    ),
  })
  .map(({ size, admins, promotion, steps }) => {
    const created = createGroup({ group: GROUP, id: 'Z'.repeat(22), by: 'alice', name: 'Start', members: NAMES.slice(1, size), at: 1 });
    const changes = [proposeChange(created, 'alice', { admins: NAMES.slice(0, admins) }, promotion, 2)];
    const all = [created, ...changes];
    const used = new Set(all.map((c) => c.id));
    for (const s of steps) {
      const parent = all[s.parent % all.length]!;
      if (used.has(s.id) || parent.members.length === 0) continue;
      let change: GroupChange;
      if (s.kind === 'leave') {
        change = leaveChange(parent, parent.members[s.author % parent.members.length]!, s.id, 3);
      } else {
        const by = parent.admins[s.author % parent.admins.length]!;
        const plain = parent.members.filter((m) => !parent.admins.includes(m));
        const outside = POOL.filter((m) => !parent.members.includes(m));
        const edit =
          s.kind === 'rename'
            ? { name: `Name ${s.n % 50}` }
            : s.kind === 'add'
              ? outside.length
                ? { members: [...parent.members, outside[s.n % outside.length]!] }
                : undefined
              : !plain.length
                ? undefined
                : s.kind === 'remove'
                  ? { members: parent.members.filter((m) => m !== plain[s.n % plain.length]) }
                  : { admins: [...parent.admins, plain[s.n % plain.length]!] };
        if (!edit) continue;
        change = proposeChange(parent, by, edit, s.id, 3); // every edit here is allowed: a throw fails the property
      }
      used.add(change.id);
      all.push(change);
      changes.push(change);
    }
    return { created, changes };
  });

/** The head by definition: the highest version, the smallest id among equals. */
function expectedHead(changes: readonly GroupChange[]): GroupChange {
  const top = Math.max(...changes.map((c) => c.version));
  return changes.filter((c) => c.version === top).sort((a, b) => (a.id < b.id ? -1 : 1))[0]!;
}

/** The changes among `received` whose whole ancestry (to the creation) has been received. */
function reachable(created: GroupChange, received: readonly GroupChange[]): GroupChange[] {
  const have = new Map(received.map((c) => [c.id, c]));
  const ok = new Set([created.id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const c of received) {
      if (!ok.has(c.id) && c.parent !== null && ok.has(c.parent) && have.has(c.id)) {
        ok.add(c.id);
        grew = true;
      }
    }
  }
  return [created, ...received.filter((c) => ok.has(c.id))];
}

describe('properties', () => {
  it('converge: every member ends with the same head whatever order the changes arrive in', () => {
    const scenario = treeArb.chain((tree) =>
      fc.record({
        tree: fc.constant(tree),
        orders: fc.tuple(...RECEIVERS.map(() => fc.shuffledSubarray(tree.changes, { minLength: tree.changes.length, maxLength: tree.changes.length }))),
      }),
    );
    fc.assert(
      fc.property(scenario, ({ tree: { created, changes }, orders }) => {
        const everything = [created.id, ...changes.map((c) => c.id)].sort();
        // In the order they were made every change has its parent before it: each is applied or superseded.
        const reference = deliverAll(created, changes, 'carol');
        expect(reference.kinds.every((k) => k === 'applied' || k === 'superseded')).toBe(true);
        const head = headOf(reference.view);
        expect(head).toEqual(expectedHead([created, ...changes]));
        RECEIVERS.forEach((me, i) => {
          const order = orders[i]!;
          expect(order.map((c) => c.id).sort()).toEqual(changes.map((c) => c.id).sort());
          let view = startView(created);
          for (let k = 0; k < order.length; k++) {
            const r = receiveChange(view, order[k]!, order[k]!.by, me);
            expect(r.outcome.kind).not.toBe('refused');
            expect(r.outcome.kind).not.toBe('duplicate');
            view = r.view;
            // It holds at least what it can trace to the creation, and only what it received (it
            // may also hold a change that adds it back while it is out, without its parent).
            const received = new Set([created.id, ...order.slice(0, k + 1).map((c) => c.id)]);
            const held = ids(view);
            for (const c of reachable(created, order.slice(0, k + 1))) expect(held).toContain(c.id);
            for (const id of held) expect(received.has(id)).toBe(true);
            expect(headOf(view).id).toBe(expectedHead(Object.values(view.changes)).id);
          }
          expect(headOf(view).id).toBe(head.id);
          expect(view.waiting).toEqual([]);
          expect(ids(view)).toEqual(everything);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('converge when each change goes only to those changeRecipients names, for the original members still in the group', () => {
    // (Members added later, or added back, can end elsewhere: see the known bugs below.)
    const scenario = treeArb.chain((tree) =>
      fc.record({ tree: fc.constant(tree), order: fc.shuffledSubarray(tree.changes, { minLength: tree.changes.length, maxLength: tree.changes.length }) }),
    );
    fc.assert(
      fc.property(scenario, ({ tree: { created, changes }, order }) => {
        const byId = new Map([created, ...changes].map((c) => [c.id, c]));
        const head = expectedHead([created, ...changes]);
        for (const me of head.members.filter((m) => created.members.includes(m))) {
          const mine = order.filter((c) => c.by === me || changeRecipients(byId.get(c.parent!), c, c.by).includes(me));
          const { view, kinds } = deliverAll(created, mine, me);
          expect(kinds.filter((k) => k.startsWith('refused'))).toEqual([]);
          expect(headOf(view).id).toBe(head.id);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a removal: the removed member is told of it, and out of the group and of who texts go to from then on', () => {
    fc.assert(
      fc.property(treeArb, ({ created, changes }) => {
        const byId = new Map([created, ...changes].map((c) => [c.id, c]));
        for (const change of changes) {
          const parent = byId.get(change.parent!)!;
          const gone = parent.members.filter((m) => !change.members.includes(m));
          if (gone.length === 0) continue;
          // Delivered its ancestry alone, the removal is the head.
          const line: GroupChange[] = [];
          for (let c: GroupChange | undefined = change; c && c.parent !== null; c = byId.get(c.parent)) line.unshift(c);
          const { view } = deliverAll(created, line, 'alice');
          expect(headOf(view).id).toBe(change.id);
          for (const x of gone) {
            expect(headOf(view).members).not.toContain(x);
            expect(headOf(view).admins).not.toContain(x);
            for (const me of headOf(view).members) expect(recipientsOf(headOf(view), me)).not.toContain(x);
            if (x !== change.by) expect(changeRecipients(parent, change, change.by)).toContain(x);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Found by reviewing the rules against these tests. Three are mended and run as plain tests; the
// first is a known limit, kept as `it.fails` (the behaviour it should have): when it is mended
// the test reports it, and becomes `it`. docs/groups.md names it.

describe('crossings, squatted ids and re-adding', () => {
  it.fails('a member added back by a change that lost a crossing still follows the group when added back again', () => {
    const c1 = createGroup({ group: GROUP, id: 'a'.repeat(22), by: 'alice', name: 'N', members: ['bob', 'carol'], at: 1 });
    const promo = proposeChange(c1, 'alice', { admins: ['alice', 'bob'] }, 'b'.repeat(22), 2);
    const removed = proposeChange(promo, 'alice', { members: ['alice', 'bob'] }, 'c'.repeat(22), 3);
    // Alice adds Carol back while Bob renames: Bob's (smaller id) wins; Carol is not told of it.
    const back = proposeChange(removed, 'alice', { members: ['alice', 'bob', 'carol'] }, 'z'.repeat(22), 4);
    const rename = proposeChange(removed, 'bob', { name: 'Bob' }, 'd'.repeat(22), 4);
    expect(changeRecipients(removed, rename, 'bob')).toEqual(['alice']);
    // Alice sees hers lost and makes it again on the winner, as the module's header says.
    const again = proposeChange(rename, 'alice', { members: ['alice', 'bob', 'carol'] }, 'e'.repeat(22), 5);
    const bob = deliverAll(c1, [promo, removed, back, rename, again], 'bob');
    expect(headOf(bob.view).id).toBe(again.id);
    const carol = deliverAll(c1, [promo, removed, back, again], 'carol');
    // Today the last is 'waiting' for ever (its parent never comes), and Carol's head stays at the loser.
    expect(carol.kinds.slice(0, 3)).toEqual(['applied', 'applied', 'applied']);
    expect(headOf(carol.view).id).toBe(again.id);
  });

  it('a new member who first hears of the group through a change that loses a crossing follows the winner', () => {
    const z = createGroup({ group: GROUP, id: 'z'.repeat(22), by: 'alice', name: 'N', members: ['bob', 'carol'], at: 1 });
    const promo = proposeChange(z, 'alice', { admins: ['alice', 'bob'] }, 'y'.repeat(22), 2);
    const addGina = proposeChange(promo, 'alice', { members: ['alice', 'bob', 'carol', 'gina'] }, 'x'.repeat(22), 3);
    // Alice and Bob both change the group Gina is now in; Bob's (smaller id) wins. Both reach Gina.
    const alices = proposeChange(addGina, 'alice', { name: 'Alice’s' }, 'c'.repeat(22), 4);
    const bobs = proposeChange(addGina, 'bob', { name: 'Bob’s' }, 'b'.repeat(22), 4);
    for (const c of [addGina, alices, bobs]) expect(changeRecipients(promo, c, c.by)).toContain('gina');
    expect(headOf(deliverAll(z, [promo, addGina, alices, bobs], 'carol').view).id).toBe(bobs.id);
    // Alice's reaches Gina first, so her view starts there (startView: "the one that added it").
    let view = startView(alices);
    const kinds: string[] = [];
    for (const c of [addGina, bobs]) {
      const r = receiveChange(view, c, c.by, 'gina');
      view = r.view;
      kinds.push(r.outcome.kind);
    }
    // Found by the property test; the change that added her, older than where she started, is
    // taken in as it is (not the head: it is older), and Bob's is then checked against it.
    expect(kinds).toEqual(['superseded', 'applied']);
    expect(headOf(view).id).toBe(bobs.id);
  });

  it('a member cannot take the place of another’s change by sending one with its id first', () => {
    const c1 = createGroup({ group: GROUP, id: 'a'.repeat(22), by: 'alice', name: 'N', members: ['bob', 'carol', 'mallory'], at: 1 });
    const promote = proposeChange(c1, 'alice', { admins: ['alice', 'bob'] }, 'X'.repeat(22), 2);
    // Mallory has Alice's change and sends Carol, first, her own leave under the same id.
    const squat = leaveChange(c1, 'mallory', promote.id, 2);
    const bobs = proposeChange(promote, 'bob', { name: 'Bob’s' }, 'D'.repeat(22), 3);
    let view = startView(c1);
    const kinds: string[] = [];
    for (const [change, sender] of [[squat, 'mallory'], [promote, 'alice'], [bobs, 'bob']] as const) {
      const r = receiveChange(view, change, sender, 'carol');
      view = r.view;
      kinds.push(r.outcome.kind === 'refused' ? r.outcome.reason : r.outcome.kind);
    }
    // A change is known by its author and id together (parentBy), so Alice's is not a repeat of
    // Mallory's: it was ['applied', 'duplicate', 'not-admin'] before, and Carol parted from the group.
    expect(kinds).toEqual(['applied', 'applied', 'applied']);
    expect(headOf(view).id).toBe(bobs.id);
  });

  it('a former admin cannot give a removed member any group, of any version, by “adding them back”', () => {
    const c1 = createGroup({ group: GROUP, id: 'a'.repeat(22), by: 'alice', name: 'N', members: ['bob', 'carol'], at: 1 });
    const promo = proposeChange(c1, 'alice', { admins: ['alice', 'bob'] }, 'b'.repeat(22), 2);
    // Bob is no longer an admin, and Carol is removed.
    const demoted = proposeChange(promo, 'alice', { admins: ['alice'], members: ['alice', 'bob'] }, 'c'.repeat(22), 3);
    const view = deliverAll(c1, [promo, demoted], 'carol').view;
    const fake: GroupChange = { ...demoted, id: 'f'.repeat(22), parent: 'q'.repeat(22), version: 2 ** 31, by: 'bob', name: 'Fake', members: ['bob', 'carol', 'eve'], admins: ['bob'] };
    const r = receiveChange(view, fake, 'bob', 'carol');
    // Only an admin of the group as Carol last had it may bring her back (it was 'applied', and
    // Alice's real re-adding, version 4, then 'superseded' for good).
    expect(r.outcome.kind).not.toBe('applied');
    const real = proposeChange(demoted, 'alice', { members: ['alice', 'bob', 'carol'] }, 'g'.repeat(22), 4);
    expect(headOf(receiveChange(r.view, real, 'alice', 'carol').view).id).toBe(real.id);
  });
});
