// Who a username belongs to, asked for every frame the relay hands on. Accounts are never
// renamed or deleted, so an answer found once stays true and is kept (bounded, first found first
// out); with PostgreSQL this saves a round trip per relayed frame. Only found users
// are kept: a name that is free now may be taken by a sign-up a moment later. Only the id and
// name are kept, never the password hash or anything else that changes.
import type { UserStore } from '../store/types.ts';

export interface UserRef {
  id: string;
  username: string;
}

export type FindUser = ((username: string) => Promise<UserRef | undefined>) & {
  /** The user if already known, without waiting (the relay's synchronous path). */
  known(username: string): UserRef | undefined;
  /**
   * Keeps a user whose id and name are certain (from a verified token) without asking the store;
   * returns the kept object (an earlier one if the name was known), for callers to share.
   */
  remember(user: UserRef): UserRef;
};

export function cachedUserLookup(users: Pick<UserStore, 'findByUsername'>, maxEntries = 50_000): FindUser {
  const known = new Map<string, UserRef>();
  // Not reordered on a hit: moving an entry to the back on every relayed frame made the Map
  // rebuild its table again and again. The first found is the first dropped; a dropped name
  // costs one store lookup when it comes back.
  const peek = (username: string) => known.get(username);
  const find = async (username: string) => {
    const hit = peek(username);
    if (hit) return hit;
    const found = await users.findByUsername(username);
    if (!found) return undefined;
    return keep({ id: found.id, username: found.username });
  };
  const keep = (ref: UserRef): UserRef => {
    const kept = known.get(ref.username);
    if (kept) return kept;
    known.set(ref.username, ref);
    if (known.size > maxEntries) known.delete(known.keys().next().value!);
    return ref;
  };
  return Object.assign(find, { known: peek, remember: (user: UserRef) => keep({ id: user.id, username: user.username }) });
}
