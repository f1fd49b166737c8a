// Whether a user has blocked another, asked for every frame the relay hands on. The answer
// lives in the store; asking it per frame was about a tenth of the relay's busy time on SQLite
// and a round trip on PostgreSQL (bench:signaling, issue #5). Answers are kept per owner and
// dropped the moment the owner blocks or unblocks anyone, in any process: the contact routes
// announce each change through the bus, and while the bus cannot hear other processes the
// cache is bypassed. A block is therefore never late, not even by the length of a cache entry.
//
// A lookup that started before a change and finishes after it must not store its stale answer:
// every change bumps `epoch`, and an answer is kept only if no change came in between. The age
// limit is a second guard for a change whose announcement failed to go out.

export type BlockLookup = (ownerId: string, otherId: string) => Promise<boolean>;

export interface BlockCache {
  /** The answer if it is known for certain right now, else undefined (ask `blocks`). */
  known(ownerId: string, otherId: string): boolean | undefined;
  blocks: BlockLookup;
  /** `ownerId` blocked or unblocked someone; undefined: anything may have changed. */
  forget(ownerId: string | undefined): void;
}

export interface BlockCacheOptions {
  /** Whether changes made elsewhere reach this process now (Bus.hearsChanges). */
  hearsChanges: () => boolean;
  maxOwners?: number;
  maxAgeMs?: number;
  now?: () => number;
}

interface OwnerEntry {
  at: number;
  answers: Map<string, boolean>;
}

export function cachedBlocks(lookup: BlockLookup, options: BlockCacheOptions): BlockCache {
  const maxOwners = options.maxOwners ?? 50_000;
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const now = options.now ?? Date.now;
  const owners = new Map<string, OwnerEntry>();
  let epoch = 0;

  const known = (ownerId: string, otherId: string): boolean | undefined => {
    if (!options.hearsChanges()) return undefined;
    const entry = owners.get(ownerId);
    if (!entry) return undefined;
    if (now() - entry.at > maxAgeMs) {
      owners.delete(ownerId);
      return undefined;
    }
    return entry.answers.get(otherId);
  };

  const remember = (ownerId: string, otherId: string, answer: boolean) => {
    let entry = owners.get(ownerId);
    if (entry) {
      // Map keeps insertion order: moving the owner to the back keeps the front least recently used.
      owners.delete(ownerId);
    } else {
      entry = { at: now(), answers: new Map() };
    }
    owners.set(ownerId, entry);
    // One owner hears from few others; the bound only stops a flood of strangers growing it.
    if (entry.answers.size >= 1024) entry.answers.clear();
    entry.answers.set(otherId, answer);
    if (owners.size > maxOwners) owners.delete(owners.keys().next().value!);
  };

  return {
    known,
    async blocks(ownerId, otherId) {
      const hit = known(ownerId, otherId);
      if (hit !== undefined) return hit;
      const before = epoch;
      const hearing = options.hearsChanges();
      const answer = await lookup(ownerId, otherId);
      if (hearing && epoch === before && options.hearsChanges()) remember(ownerId, otherId, answer);
      return answer;
    },
    forget(ownerId) {
      epoch++;
      if (ownerId === undefined) owners.clear();
      else owners.delete(ownerId);
    },
  };
}
