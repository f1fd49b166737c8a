// The relay's block cache (src/server/contacts/block-cache.ts): asked once per pair, forgotten
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
    lookup: async (owner: string, other: string) => {
      calls.push(`${owner}>${other}`);
      // The answer is read now, as a database would, and returned after the gate opens.
      const answer = blocked.has(`${owner}>${other}`);
      if (gate) await gate;
      return answer;
    },
  };
}

describe('block cache', () => {
  it('asks the store once per pair and then answers at once', async () => {
    const store = fakeStore();
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true });
    expect(cache.known('alice', 'bob')).toBeUndefined();
    expect(await cache.blocks('alice', 'bob')).toBe(false);
    expect(cache.known('alice', 'bob')).toBe(false);
    expect(await cache.blocks('alice', 'bob')).toBe(false);
    expect(await cache.blocks('alice', 'carol')).toBe(false);
    expect(store.calls).toEqual(['alice>bob', 'alice>carol']);
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
    expect(store.calls).toEqual(['alice>bob', 'alice>bob', 'dave>bob']);
  });

  it('asks again after maxAgeMs, in case an announcement of a change was lost', async () => {
    const store = fakeStore();
    let now = 1000;
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true, maxAgeMs: 500, now: () => now });
    await cache.blocks('alice', 'bob');
    now += 400;
    expect(cache.known('alice', 'bob')).toBe(false);
    now += 200;
    expect(cache.known('alice', 'bob')).toBeUndefined();
  });

  it('keeps at most maxOwners, dropping the least recently used', async () => {
    const store = fakeStore();
    const cache = cachedBlocks(store.lookup, { hearsChanges: () => true, maxOwners: 2 });
    await cache.blocks('a', 'x');
    await cache.blocks('b', 'x');
    await cache.blocks('a', 'y'); // a is now the most recent
    await cache.blocks('c', 'x'); // evicts b
    expect(cache.known('a', 'x')).toBe(false);
    expect(cache.known('c', 'x')).toBe(false);
    expect(cache.known('b', 'x')).toBeUndefined();
  });
});
