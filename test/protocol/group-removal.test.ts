// Forward security of a removal (issue #18): after Alice removes Carol, nothing Alice or Bob
// sends to the group can be opened with anything Carol holds. The harness runs the real
// protocol (session start, Double Ratchet) and the real group rules for three people, takes
// Carol's whole state (sessions, prekeys, identity) before and after the removal, and tries
// every envelope sent afterwards against both copies, as every sender.
import { describe, expect, it } from 'vitest';
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts';
import { open, seal, startSession } from '../../src/protocol/session-cipher.ts';
import { MemorySessionStore } from '../../src/protocol/memory-stores.ts';
import { addOwnChange, changeRecipients, createGroup, headOf, proposeChange, receiveChange, recipientsOf, startView, type GroupChange, type GroupView } from '../../src/protocol/group-state.ts';
import { createParty, type Party } from '../support/protocol.ts';

const id = (n: number) => `${'g'.repeat(20)}${String(n).padStart(2, '0')}`;

interface Sent {
  from: string;
  to: string;
  envelope: Uint8Array;
}

/** Carol's state as a harness would export it: a copy of her sessions, with her keys. */
async function exportState(p: Party, peers: string[]): Promise<Party> {
  const sessions = new MemorySessionStore();
  for (const peer of peers) {
    const r = await p.sessions.load(peer);
    if (r) await sessions.store(peer, r);
  }
  return { ...p, sessions, deps: { ...p.deps, sessions } };
}

describe('group removal', () => {
  it('leaves Carol unable to open anything sent to the group after her removal, with her state from before or after it', async () => {
    const people = { alice: await createParty('alice'), bob: await createParty('bob'), carol: await createParty('carol') };
    type Name = keyof typeof people;
    // Pairwise sessions between everyone, confirmed both ways.
    const names = Object.keys(people) as Name[];
    for (const a of names) {
      for (const b of names) {
        if (a < b) {
          await startSession(b, people[b].bundle(), people[a].deps);
          await open(a, await seal(b, utf8('hi'), people[a].deps), people[b].deps);
          await open(b, await seal(a, utf8('hi'), people[b].deps), people[a].deps);
        }
      }
    }
    const sent: Sent[] = [];
    const send = async (from: Name, to: string, payload: unknown) => {
      const envelope = await seal(to, utf8(JSON.stringify(payload)), people[from].deps);
      sent.push({ from, to, envelope });
      return envelope;
    };
    const receive = async (to: Name, from: Name, envelope: Uint8Array) => JSON.parse(fromUtf8((await open(from, envelope, people[to].deps)).plaintext)) as unknown;

    const created = createGroup({ group: id(0), id: id(1), by: 'alice', name: 'Book club', members: ['bob', 'carol'], at: 1 });
    const views: Record<Name, GroupView> = { alice: startView(created), bob: startView(created), carol: startView(created) };
    const text = async (from: Name, body: string) => {
      const head = headOf(views[from]);
      for (const to of recipientsOf(head, from)) await send(from, to, { type: 'group-text', group: head.group, head: head.id, id: body, text: body });
    };
    await text('alice', 'welcome');
    for (const s of sent.splice(0)) await receive(s.to as Name, s.from as Name, s.envelope);

    // Carol's copy from before the removal; one more text to her, kept unopened, proves the
    // copy can open what was meant for her.
    await text('bob', 'still here?');
    const toCarolBefore = sent.find((s) => s.to === 'carol')!;
    for (const s of sent.splice(0).filter((s) => s !== toCarolBefore)) await receive(s.to as Name, s.from as Name, s.envelope);
    const before = await exportState(people.carol, ['alice', 'bob']);

    const removal: GroupChange = proposeChange(headOf(views.alice), 'alice', { members: ['alice', 'bob'] }, id(2), 2);
    views.alice = addOwnChange(views.alice, removal);
    for (const to of changeRecipients(created, removal, 'alice')) await send('alice', to, { type: 'group-change', change: removal });
    expect(sent.map((s) => s.to).sort()).toEqual(['bob', 'carol']); // Carol is told she was removed
    for (const s of sent.splice(0)) {
      const p = (await receive(s.to as Name, 'alice', s.envelope)) as { change: GroupChange };
      const r = receiveChange(views[s.to as Name], p.change, 'alice', s.to);
      expect(r.outcome.kind).toBe('applied');
      views[s.to as Name] = r.view;
    }
    expect(headOf(views.carol).members).toEqual(['alice', 'bob']);
    const after = await exportState(people.carol, ['alice', 'bob']);

    // After the removal: texts from Alice and Bob, and Carol's own attempt goes nowhere.
    for (let i = 0; i < 5; i++) {
      await text('alice', `after ${i}`);
      await text('bob', `bob after ${i}`);
    }
    expect(recipientsOf(headOf(views.carol), 'carol')).toEqual(['alice', 'bob']); // she still sees who they are
    const afterRemoval = sent.splice(0);
    expect(afterRemoval).toHaveLength(10);
    expect(afterRemoval.some((s) => s.to === 'carol')).toBe(false);
    for (const s of afterRemoval) expect(fromUtf8((await open(s.from, s.envelope, people[s.to as Name].deps)).plaintext)).toContain('after');

    // Everything sent afterwards, against both copies of Carol's state, as from either sender.
    let attempts = 0;
    for (const state of [before, after]) {
      for (const s of afterRemoval) {
        for (const as of ['alice', 'bob']) {
          attempts++;
          await expect(open(as, s.envelope, state.deps)).rejects.toThrow();
        }
      }
    }
    expect(attempts).toBe(40);
    // The harness is not blind: her copy from before opens the text that was meant for her.
    expect(fromUtf8((await open('bob', toCarolBefore.envelope, before.deps)).plaintext)).toContain('still here?');
  });
});
