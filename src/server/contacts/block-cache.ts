// Whether a user has blocked another, asked for every frame the relay hands on. The answer
// lives in the store; asking it per frame was about a tenth of the relay's busy time on SQLite
// and a round trip on PostgreSQL (bench:signaling, issue #5). Each owner's whole block list is
// kept, and dropped the moment the owner blocks or unblocks anyone, in any process: the contact
// routes announce each change through the bus, and while the bus cannot hear other processes the
// cache is bypassed. A block is therefore never late, not even by the length of a cache entry.
//
// Most people block nobody; for them the cache keeps only the second the answer was read, a
// small integer, so tens of thousands of owners cost little memory and little garbage collection.
//
// A lookup that started before a change and finishes after it must not store its stale answer:
// every change bumps `epoch`, and an answer is kept only if no change came in between. The age
// limit is a second guard for a change whose announcement failed to go out (across processes;
// in one process announcing cannot fail, and the server sets no limit). An entry in use is
// read again in the background once half its age is gone, so a busy owner's frames never wait
// for the store: at 19,000 clients every entry warmed at connection expired during the
// benchmark's measurements, and each first frame after that waited on the store (issue #5).

export type BlockListLookup = (ownerId: string) => Promise<string[]>;

export interface BlockCache {
  /** The answer if it is known for certain right now, else undefined (ask `blocks`). */
  known(ownerId: string, otherId: string): boolean | undefined;
  blocks(ownerId: string, otherId: string): Promise<boolean>;
  /** Reads `ownerId`'s block list now if it is not known, so that the first frame for them need not wait. */
  warm(ownerId: string): Promise<void>;
  /** `ownerId` blocked or unblocked someone; undefined: anything may have changed. */
  forget(ownerId: string | undefined): void;
}

export interface BlockCacheOptions {
  /** Whether changes made elsewhere reach this process now (Bus.hearsChanges). */
  hearsChanges: () => boolean;
  maxOwners?: number;
  /** How long an answer is trusted without being read again (default 60 s); Infinity: for good. */
  maxAgeMs?: number;
  now?: () => number;
}

/** An owner who blocks someone: when the list was read, and who is on it. */
interface BlockList {
  second: number;
  blocked: Set<string>;
}

/** A number: the owner blocks nobody, as read at that second. */
type Entry = number | BlockList;

export function cachedBlocks(lookup: BlockListLookup, options: BlockCacheOptions): BlockCache {
  const maxOwners = options.maxOwners ?? 50_000;
  const maxAgeSeconds = Math.max(1, Math.round((options.maxAgeMs ?? 60_000) / 1000));
  const now = options.now ?? Date.now;
  const started = now();
  // Seconds since the cache was made: a small integer, which V8 stores without an allocation.
  const second = () => Math.floor((now() - started) / 1000);
  const refreshAfterSeconds = Math.max(1, Math.floor(maxAgeSeconds / 2));
  const owners = new Map<string, Entry>();
  const refreshing = new Set<string>();
  let epoch = 0;

  /** The owner's entry if it can be trusted right now. */
  const fresh = (ownerId: string): Entry | undefined => {
    if (!options.hearsChanges()) return undefined;
    const entry = owners.get(ownerId);
    // Without an age limit there is no clock to read.
    if (entry === undefined || maxAgeSeconds === Infinity) return entry;
    const age = second() - (typeof entry === 'number' ? entry : entry.second);
    // Not deleted when too old: the next read replaces it in place, and deleting and adding
    // entries of a Map this size made it rebuild its table over and over.
    if (age >= maxAgeSeconds) return undefined;
    if (age >= refreshAfterSeconds && !refreshing.has(ownerId)) {
      refreshing.add(ownerId);
      // A failed refresh changes nothing: the entry ages out and the next frame reads, and
      // reports, for itself.
      read(ownerId).then(
        () => refreshing.delete(ownerId),
        () => refreshing.delete(ownerId),
      );
    }
    return entry;
  };

  const known = (ownerId: string, otherId: string): boolean | undefined => {
    const entry = fresh(ownerId);
    if (entry === undefined) return undefined;
    return typeof entry === 'number' ? false : entry.blocked.has(otherId);
  };

  const remember = (ownerId: string, blocked: string[]) => {
    const at = second();
    // Replaced in place, keeping its place in line: the front of the Map is the owner first read.
    owners.set(ownerId, blocked.length === 0 ? at : { second: at, blocked: new Set(blocked) });
    if (owners.size > maxOwners) owners.delete(owners.keys().next().value!);
  };

  const read = async (ownerId: string): Promise<string[]> => {
    const before = epoch;
    const blocked = await lookup(ownerId);
    if (epoch === before && options.hearsChanges()) remember(ownerId, blocked);
    return blocked;
  };

  return {
    known,
    async blocks(ownerId, otherId) {
      const hit = known(ownerId, otherId);
      if (hit !== undefined) return hit;
      return (await read(ownerId)).includes(otherId);
    },
    async warm(ownerId) {
      if (fresh(ownerId) === undefined) await read(ownerId);
    },
    forget(ownerId) {
      epoch++;
      if (ownerId === undefined) owners.clear();
      else owners.delete(ownerId);
    },
  };
}
