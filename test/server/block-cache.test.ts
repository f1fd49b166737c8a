// The relay's block cache (src/server/contacts/block-cache.ts): asked once per owner, forgotten
// per owner on a change, never trusted while changes cannot be heard, and never keeping an
// answer that a change overtook.
import { describe, expect, it } from 'vitest';
import { cachedBlocks } from '../../src/server/contacts/block-cache.ts';

function fakeStore() {
  const blocked = new Set<string>();
  const calls: string[] = [];
  let gate: Promise<void> | undefined;
  return {
    blocked,
    calls,
    hold(until: Promise<void>) {
      gate = until;
    },
    lookup: async (owner: string) => {
      calls.push(owner);
      // The answer is read now, as a database would, and returned after the gate opens.
      const answer = [...blocked].filter((pair) => pair.startsWith(`${owner}>`)).map((pair) => pair.slice(owner.length + 1));
      if (gate) await gate;
      return answer;
    },
  };
}

describe('block cache', () => {
  it('asks the store once per owner and then answers at once, for anyone', async () => {
    const store = fakeStore();
    store.blocked.add('dave>mallory');
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true });
    expect(cache.known('alice', 'bob')).toBeUndefined();
    expect(await cache.blocks('alice', 'bob')).toBe(false);
    expect(cache.known('alice', 'bob')).toBe(false);
    expect(cache.known('alice', 'carol')).toBe(false);
    expect(await cache.blocks('dave', 'mallory')).toBe(true);
    expect(cache.known('dave', 'mallory')).toBe(true);
    expect(cache.known('dave', 'bob')).toBe(false);
    expect(store.calls).toEqual(['alice', 'dave']);
  });

  it('forgets an owner\'s answers when that owner changes a block, and only that owner\'s', async () => {
    const store = fakeStore();
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true });
    await cache.blocks('alice', 'bob');
    await cache.blocks('carol', 'bob');
    store.blocked.add('alice>bob');
    cache.forget('alice');
    expect(cache.known('alice', 'bob')).toBeUndefined();
    expect(cache.known('carol', 'bob')).toBe(false);
    expect(await cache.blocks('alice', 'bob')).toBe(true);
    expect(cache.known('alice', 'bob')).toBe(true);
    store.blocked.delete('alice>bob');
    cache.forget(undefined); // everything, as after a lost link to the other processes
    expect(cache.known('carol', 'bob')).toBeUndefined();
    expect(await cache.blocks('alice', 'bob')).toBe(false);
  });

  it('does not keep an answer read before a change that arrived while it was on its way', async () => {
    const store = fakeStore();
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true });
    let open!: () => void;
    store.hold(new Promise<void>((r) => (open = r)));
    const stale = cache.blocks('alice', 'bob'); // reads "not blocked"
    store.blocked.add('alice>bob');
    cache.forget('alice');
    open();
    expect(await stale).toBe(false); // the answer of its moment
    expect(cache.known('alice', 'bob')).toBeUndefined(); // but not kept
    store.hold(Promise.resolve());
    expect(await cache.blocks('alice', 'bob')).toBe(true);
  });

  it('neither answers from memory nor remembers while changes made elsewhere cannot be heard', async () => {
    const store = fakeStore();
    let hearing = true;
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => hearing });
    await cache.blocks('alice', 'bob');
    hearing = false;
    expect(cache.known('alice', 'bob')).toBeUndefined();
    await cache.blocks('alice', 'bob');
    await cache.blocks('dave', 'bob');
    hearing = true;
    expect(cache.known('dave', 'bob')).toBeUndefined();
    expect(store.calls).toEqual(['alice', 'alice', 'dave']);
  });

  it('asks again after maxAgeMs when unused, in case an announcement of a change was lost', async () => {
    const store = fakeStore();
    let now = 1000;
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true, maxAgeMs: 5000, now: () => now });
    await cache.blocks('alice', 'bob');
    store.blocked.add('alice>bob'); // and the announcement never came
    now += 5100;
    expect(cache.known('alice', 'bob')).toBeUndefined();
    expect(await cache.blocks('alice', 'bob')).toBe(true);
    expect(store.calls).toEqual(['alice', 'alice']);
  });

  it('reads an entry in use again in the background once half its age is gone, so it never lapses', async () => {
    const store = fakeStore();
    let now = 1000;
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true, maxAgeMs: 10_000, now: () => now });
    await cache.blocks('alice', 'bob');
    now += 4000;
    expect(cache.known('alice', 'bob')).toBe(false);
    expect(store.calls).toEqual(['alice']); // still young
    now += 1000;
    store.blocked.add('alice>bob'); // a lost announcement, found by the refresh
    expect(cache.known('alice', 'bob')).toBe(false); // answered at once from the entry…
    expect(cache.known('alice', 'bob')).toBe(false); // …and read again only once meanwhile
    await Promise.resolve();
    expect(store.calls).toEqual(['alice', 'alice']);
    expect(cache.known('alice', 'bob')).toBe(true);
    // In use every two seconds for a minute: never unknown, one read per half age.
    for (let i = 0; i < 30; i++) {
      now += 2000;
      expect(cache.known('alice', 'bob')).toBe(true);
      await Promise.resolve();
    }
    expect(store.calls.length).toBeGreaterThanOrEqual(7);
    expect(store.calls.length).toBeLessThanOrEqual(14);
  });

  it('with no age limit (one process, where no announcement can go missing), never reads an entry again', async () => {
    const store = fakeStore();
    let now = 1000;
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true, maxAgeMs: Infinity, now: () => now });
    await cache.blocks('alice', 'bob');
    for (let day = 0; day < 30; day++) {
      now += 86_400_000;
      expect(cache.known('alice', 'bob')).toBe(false);
      await Promise.resolve();
    }
    expect(store.calls).toEqual(['alice']);
    cache.forget('alice'); // an announced change still applies at once
    store.blocked.add('alice>bob');
    expect(await cache.blocks('alice', 'bob')).toBe(true);
  });

  it('keeps at most maxOwners, dropping the owner first read', async () => {
    const store = fakeStore();
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true, maxOwners: 2 });
    await cache.blocks('a', 'x');
    await cache.blocks('b', 'x');
    await cache.blocks('c', 'x'); // drops a
    expect(cache.known('a', 'x')).toBeUndefined();
    expect(cache.known('b', 'x')).toBe(false);
    expect(cache.known('c', 'x')).toBe(false);
  });

  it('warms an owner\'s list once, ahead of the first frame, and not with an answer a change overtook', async () => {
    const store = fakeStore();
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true });
    await cache.warm('alice');
    await cache.warm('alice');
    expect(store.calls).toEqual(['alice']);
    expect(cache.known('alice', 'bob')).toBe(false);
    let open!: () => void;
    store.hold(new Promise<void>((r) => (open = r)));
    const warming = cache.warm('carol');
    store.blocked.add('carol>bob');
    cache.forget('carol');
    open();
    await warming;
    expect(cache.known('carol', 'bob')).toBeUndefined();
  });
});
