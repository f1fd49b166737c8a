// A few promise wrappers over IndexedDB, which is callback-shaped. One database for Parley;
// each store is created by the versioned upgrade below, so adding a store means a new version.

const DB_NAME = 'parley';
const DB_VERSION = 1;

export type StoreName = 'identity';

let opening: Promise<IDBDatabase> | undefined;

function upgrade(db: IDBDatabase, oldVersion: number): void {
  if (oldVersion < 1) db.createObjectStore('identity');
}

export function openDatabase(): Promise<IDBDatabase> {
  opening ??= new Promise<IDBDatabase>((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (event) => upgrade(req.result, event.oldVersion);
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

export async function idbGet<T>(store: StoreName, key: IDBValidKey): Promise<T | undefined> {
  const db = await openDatabase();
  return done(db.transaction(store, 'readonly').objectStore(store).get(key)) as Promise<T | undefined>;
}

/** Resolves once the write is durable (transaction complete), not merely queued. */
export async function idbPut(store: StoreName, key: IDBValidKey, value: unknown): Promise<void> {
  const db = await openDatabase();
  const tx = db.transaction(store, 'readwrite', { durability: 'strict' });
  tx.objectStore(store).put(value, key);
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB write aborted'));
  });
}

export async function idbDelete(store: StoreName, key: IDBValidKey): Promise<void> {
  const db = await openDatabase();
  const tx = db.transaction(store, 'readwrite');
  tx.objectStore(store).delete(key);
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB delete failed'));
  });
}
