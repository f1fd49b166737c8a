// A few promise wrappers over IndexedDB, which is callback-shaped. One database for Parley;
// every store is created by the versioned upgrade below, so a new store means a new version.
// Keys are arrays beginning with the account's user id, so two accounts used in one browser
// never see each other's keys or sessions.

const DB_NAME = 'parley';
const DB_VERSION = 5;

export type StoreName = 'identity' | 'signedPreKeys' | 'oneTimePreKeys' | 'pqPreKeys' | 'sessions' | 'contacts' | 'meta' | 'messages' | 'conversations' | 'outbox' | 'transfers';

export const ALL_STORES: StoreName[] = ['identity', 'signedPreKeys', 'oneTimePreKeys', 'pqPreKeys', 'sessions', 'contacts', 'meta', 'messages', 'conversations', 'outbox', 'transfers'];

let opening: Promise<IDBDatabase> | undefined;

function upgrade(db: IDBDatabase, oldVersion: number, tx: IDBTransaction | null): void {
  if (oldVersion < 1) db.createObjectStore('identity');
  if (oldVersion < 2) {
    for (const name of ['signedPreKeys', 'oneTimePreKeys', 'pqPreKeys', 'sessions', 'contacts', 'meta']) db.createObjectStore(name);
  }
  if (oldVersion < 3) {
    for (const name of ['messages', 'conversations', 'outbox']) db.createObjectStore(name);
  }
  if (oldVersion < 4) db.createObjectStore('transfers');
  // Each contact's outbox is read on every send: by its own entries, not all of them (a group
  // text makes one entry per member, and a hundred pumps each reading every entry is quadratic).
  if (oldVersion < 5 && tx) tx.objectStore('outbox').createIndex('peer', 'peer');
}

export function openDatabase(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (event) => upgrade(req.result, event.oldVersion, req.transaction);
    req.onsuccess = () => {
      const db = req.result;
      // Another tab upgrading the schema asks us to let go; reopen lazily next time.
      db.onversionchange = () => {
        db.close();
        opening = undefined;
      };
      resolve(db);
    };
    req.onerror = () => {
      opening = undefined;
      reject(req.error ?? new Error('IndexedDB could not be opened'));
    };
    req.onblocked = () => reject(new Error('Parley is being updated in another tab; close it and reload.'));
  });
  return opening;
}

function done<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function committed(tx: IDBTransaction): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'));
  });
}

export async function idbGet<T>(store: StoreName, key: IDBValidKey): Promise<T | undefined> {
  const db = await openDatabase();
  return done(db.transaction(store, 'readonly').objectStore(store).get(key)) as Promise<T | undefined>;
}

/** Every value whose key starts with `prefix` (an array key prefix such as [userId]). */
export async function idbGetAllWithPrefix<T>(store: StoreName, prefix: IDBValidKey[]): Promise<T[]> {
  const db = await openDatabase();
  // Arrays sort after every other key type, so [...prefix, []] bounds all keys that extend prefix.
  const range = IDBKeyRange.bound(prefix, [...prefix, []]);
  return done(db.transaction(store, 'readonly').objectStore(store).getAll(range)) as Promise<T[]>;
}

/** Records of one account whose `index` is `value` (the index's key path is a field of the record). */
export async function idbGetAllByIndex<T>(store: StoreName, index: string, value: IDBValidKey, userId: string): Promise<T[]> {
  const db = await openDatabase();
  const source = db.transaction(store, 'readonly').objectStore(store).index(index);
  const range = IDBKeyRange.only(value);
  // Both in one transaction, so they come in the same order.
  const [values, keys] = await Promise.all([done(source.getAll(range)), done(source.getAllKeys(range))]);
  return (values as T[]).filter((_, i) => Array.isArray(keys[i]) && (keys[i] as IDBValidKey[])[0] === userId);
}

/** Resolves once the write is durable (transaction complete with strict durability), not merely queued. */
export async function idbPut(store: StoreName, key: IDBValidKey, value: unknown): Promise<void> {
  const db = await openDatabase();
  const tx = db.transaction(store, 'readwrite', { durability: 'strict' });
  tx.objectStore(store).put(value, key);
  await committed(tx);
}

/** Several puts in one transaction: all land, or none does. */
export async function idbPutMany(store: StoreName, entries: Array<[IDBValidKey, unknown]>): Promise<void> {
  const db = await openDatabase();
  const tx = db.transaction(store, 'readwrite', { durability: 'strict' });
  const os = tx.objectStore(store);
  for (const [key, value] of entries) os.put(value, key);
  await committed(tx);
}

/**
 * `relaxed`: for a delete whose loss in a crash costs only a repeat (an outbox entry the server
 * already holds: sent again, and the receiver drops the copy), so it need not wait for the disk.
 */
export async function idbDelete(store: StoreName, key: IDBValidKey | IDBKeyRange, durability: 'strict' | 'relaxed' = 'strict'): Promise<void> {
  const db = await openDatabase();
  const tx = db.transaction(store, 'readwrite', { durability });
  tx.objectStore(store).delete(key);
  await committed(tx);
}

export function prefixRange(prefix: IDBValidKey[]): IDBKeyRange {
  return IDBKeyRange.bound(prefix, [...prefix, []]);
}

/** Wraps an IDB request as a promise; awaiting it inside a transaction keeps the transaction alive. */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return done(req);
}

/**
 * Adds `value` under `key` unless the key is taken: false then, and the transaction goes on
 * (the failed add is neither an error of the transaction nor a reason to abort it).
 */
export function addIfAbsent(store: IDBObjectStore, value: unknown, key: IDBValidKey): Promise<boolean> {
  const req = store.add(value, key);
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(true);
    req.onerror = (event) => {
      if (req.error?.name !== 'ConstraintError') return reject(req.error ?? new Error('IndexedDB add failed'));
      event.preventDefault();
      event.stopPropagation();
      resolve(false);
    };
  });
}

/**
 * Runs `body` in one readwrite transaction over `stores` and resolves once it is durable. Inside
 * `body`, await only IDB requests (no Web Crypto, no network): any other wait lets the
 * transaction commit early.
 */
export async function idbTransaction<T>(stores: StoreName[], body: (tx: IDBTransaction) => Promise<T>): Promise<T> {
  const db = await openDatabase();
  const tx = db.transaction(stores, 'readwrite', { durability: 'strict' });
  const finished = committed(tx);
  let result: T;
  try {
    result = await body(tx);
  } catch (e) {
    try {
      tx.abort();
    } catch {
      // already finished
    }
    await finished.catch(() => undefined);
    throw e;
  }
  await finished;
  return result;
}

/** Deletes every record of one account in every store. */
export async function idbWipePrefix(prefix: IDBValidKey[]): Promise<void> {
  const db = await openDatabase();
  const tx = db.transaction(ALL_STORES, 'readwrite', { durability: 'strict' });
  for (const name of ALL_STORES) tx.objectStore(name).delete(name === 'identity' ? (prefix[0] as IDBValidKey) : prefixRange(prefix));
  await committed(tx);
}
