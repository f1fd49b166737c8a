// The relay's username lookup (src/server/signaling/user-lookup.ts): kept once found, never kept
// when not found, bounded, and holding nothing but the id and the name.
import { describe, expect, it } from 'vitest';
import { cachedUserLookup } from '../../src/server/signaling/user-lookup.ts';
import type { UserRecord } from '../../src/server/store/types.ts';

function fakeUsers(names: string[]) {
  const rows = new Map(names.map((n, i) => [n, { id: `id-${i}`, username: n, passwordHash: '$2b$12$secret' } as unknown as UserRecord]));
  const calls: string[] = [];
  return {
    calls,
    rows,
    findByUsername: async (username: string) => {
      calls.push(username);
      return rows.get(username);
    },
  };
}

describe('relay user lookup', () => {
  it('asks the store once per found user, and returns only the id and the name', async () => {
    const users = fakeUsers(['alice', 'bob']);
    const find = cachedUserLookup(users);
    expect(await find('alice')).toEqual({ id: 'id-0', username: 'alice' });
    expect(await find('alice')).toEqual({ id: 'id-0', username: 'alice' });
    expect(await find('bob')).toEqual({ id: 'id-1', username: 'bob' });
    expect(users.calls).toEqual(['alice', 'bob']);
  });

  it('does not remember that a name was free: a user who signs up later is found', async () => {
    const users = fakeUsers([]);
    const find = cachedUserLookup(users);
    expect(await find('carol')).toBeUndefined();
    users.rows.set('carol', { id: 'id-c', username: 'carol' } as unknown as UserRecord);
    expect(await find('carol')).toEqual({ id: 'id-c', username: 'carol' });
  });

  it('keeps at most maxEntries, dropping the first found', async () => {
    const users = fakeUsers(['a', 'b', 'c']);
    const find = cachedUserLookup(users, 2);
    await find('a');
    await find('b');
    expect(find.known('a')).toEqual({ id: 'id-0', username: 'a' });
    await find('c'); // evicts a, the first found
    users.calls.length = 0;
    await find('b');
    await find('c');
    expect(users.calls).toEqual([]);
    expect(find.known('a')).toBeUndefined();
    await find('a');
    expect(users.calls).toEqual(['a']);
  });

  it('keeps a user from a verified token without asking the store, and only the id and name', async () => {
    const users = fakeUsers(['alice']);
    const find = cachedUserLookup(users);
    const kept = find.remember({ id: 'id-0', username: 'alice', passwordHash: 'x' } as unknown as { id: string; username: string });
    expect(kept).toEqual({ id: 'id-0', username: 'alice' });
    expect(find.known('alice')).toBe(kept);
    // A second socket of the same user shares the one object.
    expect(find.remember({ id: 'id-0', username: 'alice' })).toBe(kept);
    expect(await find('alice')).toEqual({ id: 'id-0', username: 'alice' });
    expect(users.calls).toEqual([]);
  });
});
