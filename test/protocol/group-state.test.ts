// The rules of a group's state (src/protocol/group-state.ts): who may change what, what is
// refused and why, and that every member ends with the same group whatever order the changes
// reach them in (fast-check over delivery orders of random trees of concurrent changes).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  createGroup,
  GroupRuleError,
  headOf,
  leaveChange,
  MAX_GROUP_MEMBERS,
  proposeChange,
  receiveChange,
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

const ids = (v: GroupView) => Object.keys(v.changes).sort();

describe('group rules', () => {
  it('makes its creator the only admin, sorts the members, and counts everyone against the limit', () => {
    const { created } = made('dave', ['carol', 'bob']);
    expect(created.members).toEqual(['bob', 'carol', 'dave']);
    expect(created.admins).toEqual(['dave']);
    expect(created.version).toBe(1);
    expect(created.parent).toBeNull();
    expect(groupChange.safeParse(created).success).toBe(true);
    const others = (n: number) => Array.from({ length: n }, (_, i) => `user${String(i).padStart(3, '0')}`);
    expect(createGroup({ group: GROUP, id: newId(), by: 'alice', name: 'Full', members: others(MAX_GROUP_MEMBERS - 1), at: 1 }).members).toHaveLength(100);
    let error: unknown;
    try {
      createGroup({ group: GROUP, id: newId(), by: 'alice', name: 'Too many', members: others(MAX_GROUP_MEMBERS), at: 1 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GroupRuleError);
    expect((error as GroupRuleError).reason).toBe('too-many');
    expect((error as GroupRuleError).message).toBe('A group has at most 100 members.');
    // The wire refuses a 101st member too, whoever sends it.
    expect(groupChange.safeParse({ ...created, members: others(101) }).success).toBe(false);
  });

  it('lets an admin add, remove, rename and make admins, and nobody else', () => {
    const { created } = made();
    const added = proposeChange(created, 'alice', { members: [...created.members, 'erin'] }, newId(), 2);
    expect(added.members).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
    expect([added.version, added.parent]).toEqual([2, created.id]);
    const removed = proposeChange(added, 'alice', { members: added.members.filter((m) => m !== 'bob') }, newId(), 3);
    expect(removed.members).toEqual(['alice', 'carol', 'dave', 'erin']);
    const renamed = proposeChange(removed, 'alice', { name: 'Reading club' }, newId(), 4);
    expect([renamed.name, renamed.members]).toEqual(['Reading club', removed.members]);
    const promoted = proposeChange(renamed, 'alice', { admins: [...renamed.admins, 'carol'] }, newId(), 5);
    expect(promoted.admins).toEqual(['alice', 'carol']);
    // Carol is an admin now; Dave is not.
    expect(proposeChange(promoted, 'carol', { name: 'Carol’s club' }, newId(), 6).name).toBe('Carol’s club');
    expect(() => proposeChange(promoted, 'dave', { name: 'Dave’s club' }, newId(), 6)).toThrow(GroupRuleError);
    expect(() => proposeChange(promoted, 'mallory', { members: [...promoted.members, 'mallory'] }, newId(), 6)).toThrow(/Only an admin/);
    // Removing every admin while members remain would leave the group stuck.
    expect(() => proposeChange(created, 'alice', { admins: [] }, newId(), 2)).toThrow(/without an admin/);
  });

  it('lets any member leave, and hands the group on when its last admin leaves', () => {
    const { view, created } = made();
    const bobLeaves = leaveChange(created, 'bob', newId(), 2);
    const r = receiveChange(view, bobLeaves, 'bob', 'carol');
    expect(r.outcome.kind).toBe('applied');
    expect(headOf(r.view).members).toEqual(['alice', 'carol', 'dave']);
    const aliceLeaves = leaveChange(headOf(r.view), 'alice', newId(), 3);
    const r2 = receiveChange(r.view, aliceLeaves, 'alice', 'carol');
    expect(r2.outcome.kind).toBe('applied');
    expect(headOf(r2.view).members).toEqual(['carol', 'dave']);
    expect(headOf(r2.view).admins).toEqual(['carol']);
    // A "leave" that does anything else is a non-admin's change.
    const sneaky = { ...leaveChange(created, 'bob', newId(), 2), name: 'Bob’s now' };
    expect(receiveChange(view, sneaky, 'bob', 'carol').outcome).toEqual({ kind: 'refused', reason: 'not-admin' });
  });

  it('refuses, and leaves the view as it was: a forged author, a non-admin, a bad version, a stranger, a malformed change, another group', () => {
    const { view, created } = made();
    const ok = proposeChange(created, 'alice', { name: 'Renamed' }, newId(), 2);
    const cases: Array<[GroupChange, string, string]> = [
      [ok, 'bob', 'forged'],
      [{ ...ok, by: 'bob' }, 'bob', 'not-admin'],
      [{ ...ok, version: 3 }, 'alice', 'bad-version'],
      [{ ...ok, by: 'mallory', members: [...ok.members, 'mallory'].sort() }, 'mallory', 'not-member'],
      [{ ...ok, members: ['dave', 'alice', 'bob', 'carol'] }, 'alice', 'invalid'],
      [{ ...ok, admins: ['alice', 'zed'] }, 'alice', 'invalid'],
      [{ ...ok, group: 'H'.repeat(22) }, 'alice', 'other-group'],
      [{ ...created, id: newId() }, 'alice', 'bad-version'], // a second creation of the same group
    ];
    for (const [change, sender, reason] of cases) {
      const r = receiveChange(view, change, sender, 'carol');
      expect(r.outcome).toEqual({ kind: 'refused', reason });
      expect(r.view).toBe(view);
      expect(headOf(r.view).id).toBe(created.id);
    }
    expect(receiveChange(view, created, 'alice', 'carol').outcome).toEqual({ kind: 'duplicate' });
    // Made on a change this member never saw, it waits (its author may have been made admin
    // there), and is applied only if that change comes and allows it; a stranger's never does.
    const stray = { ...ok, by: 'mallory', parent: newId(), version: 7 };
    const r = receiveChange(view, stray, 'mallory', 'carol');
    expect(r.outcome).toEqual({ kind: 'waiting' });
    expect(headOf(r.view).id).toBe(created.id);
    let flooded = r.view;
    for (let i = 0; i < 40; i++) flooded = receiveChange(flooded, { ...stray, id: newId() }, 'mallory', 'carol').view;
    expect(flooded.waiting.length).toBe(16);
  });

  it('waits for a change whose parent has not arrived, and applies it once it has', () => {
    const { view, created } = made();
    const second = proposeChange(created, 'alice', { name: 'Two' }, newId(), 2);
    const third = proposeChange(second, 'alice', { name: 'Three' }, newId(), 3);
    const r = receiveChange(view, third, 'alice', 'carol');
    expect(r.outcome).toEqual({ kind: 'waiting' });
    expect(headOf(r.view).id).toBe(created.id);
    const r2 = receiveChange(r.view, second, 'alice', 'carol');
    expect(r2.outcome.kind).toBe('applied');
    expect(headOf(r2.view).name).toBe('Three');
    expect(r2.view.waiting).toEqual([]);
  });

  it('keeps a valid change made on an old version without applying it', () => {
    const { view, created } = made();
    const second = proposeChange(created, 'alice', { name: 'Two' }, newId('b'), 2);
    const third = proposeChange(second, 'alice', { name: 'Three' }, newId(), 3);
    let v = receiveChange(view, second, 'alice', 'carol').view;
    v = receiveChange(v, third, 'alice', 'carol').view;
    // Made on the creation by the same admin, long after: it crossed with what came since.
    const late = proposeChange(created, 'alice', { name: 'Late' }, newId('a'), 4);
    const r = receiveChange(v, late, 'alice', 'carol');
    expect(r.outcome.kind).toBe('superseded');
    expect(headOf(r.view).name).toBe('Three');
    expect(ids(r.view)).toContain(late.id);
  });

  it('starts again from the change that adds back a member who was removed', () => {
    const { view, created } = made();
    const removed = proposeChange(created, 'alice', { members: created.members.filter((m) => m !== 'carol') }, newId(), 2);
    const v = receiveChange(view, removed, 'alice', 'carol').view;
    expect(headOf(v).members).not.toContain('carol');
    // Changes in between never reached Carol; the one that adds her back names a parent she lacks.
    const between = proposeChange(removed, 'alice', { name: 'Without Carol' }, newId(), 3);
    const back = proposeChange(between, 'alice', { members: [...between.members, 'carol'] }, newId(), 4);
    const r = receiveChange(v, back, 'alice', 'carol');
    expect(r.outcome.kind).toBe('applied');
    expect(headOf(r.view).id).toBe(back.id);
    expect(headOf(r.view).name).toBe('Without Carol');
  });
});

/** A random history: each change made on some earlier change by one of its admins. */
const history = fc
  .array(
    fc.record({
      parent: fc.nat(),
      author: fc.nat(),
      edit: fc.oneof(
        fc.record({ kind: fc.constant('rename' as const), n: fc.nat(99) }),
        fc.record({ kind: fc.constant('add' as const), n: fc.nat(5) }),
        fc.record({ kind: fc.constant('remove' as const), n: fc.nat(9) }),
        fc.record({ kind: fc.constant('admin' as const), n: fc.nat(9) }),
      ),
      id: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJ'), minLength: 22, maxLength: 22 }),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((steps) => {
    const created = createGroup({ group: GROUP, id: 'Z'.repeat(22), by: 'alice', name: 'Start', members: ['bob', 'carol', 'dave', 'erin'], at: 1 });
    const all: GroupChange[] = [proposeChange(created, 'alice', { admins: ['alice', 'bob', 'carol'] }, 'Y'.repeat(22), 2)];
    const chain = [created, all[0]!];
    const used = new Set(chain.map((c) => c.id));
    for (const s of steps) {
      if (used.has(s.id)) continue;
      const parent = chain[s.parent % chain.length]!;
      const by = parent.admins[s.author % parent.admins.length]!;
      const pool = ['frank', 'gina', 'hugo', 'ivan', 'jane', 'kate'];
      const others = parent.members.filter((m) => m !== by);
      const edit =
        s.edit.kind === 'rename'
          ? { name: `Name ${s.edit.n}` }
          : s.edit.kind === 'add'
            ? { members: [...parent.members, pool[s.edit.n]!] }
            : s.edit.kind === 'remove' && others.length
              ? { members: parent.members.filter((m) => m !== others[s.edit.n % others.length]) }
              : others.length
                ? { admins: [...parent.admins, others[s.edit.n % others.length]!] }
                : { name: 'Alone' };
      let change: GroupChange;
      try {
        change = proposeChange(parent, by, edit, s.id, 3);
      } catch {
        continue;
      }
      used.add(change.id);
      chain.push(change);
      all.push(change);
    }
    return { created, changes: all };
  });

describe('concurrent changes', () => {
  it('end with the same group in every member, whatever order the changes arrive in', () => {
    fc.assert(
      fc.property(history, fc.array(fc.nat(), { minLength: 3, maxLength: 3 }), ({ created, changes }, seeds) => {
        const deliver = (order: GroupChange[]) => {
          let view = startView(created);
          for (const c of order) view = receiveChange(view, c, c.by, 'dave').view;
          return view;
        };
        // In the order they were made, every change has its parent before it.
        const reference = headOf(deliver(changes));
        for (const seed of seeds) {
          // A permutation from the seed: each member's own arrival order.
          const order = [...changes];
          let x = seed + 1;
          for (let i = order.length - 1; i > 0; i--) {
            x = (x * 1103515245 + 12345) % 2 ** 31;
            const j = x % (i + 1);
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          const view = deliver(order);
          expect(headOf(view).id).toBe(reference.id);
          expect(view.waiting).toEqual([]);
          expect(ids(view)).toEqual([created.id, ...changes.map((c) => c.id)].sort());
        }
        // The head is the highest version, the smallest id among equals.
        const top = Math.max(...changes.map((c) => c.version), 1);
        expect(reference.version).toBe(top);
        expect(reference.id).toBe(changes.filter((c) => c.version === top).map((c) => c.id).sort()[0]);
      }),
      { numRuns: 300 },
    );
  });
});
