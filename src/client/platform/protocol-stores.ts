// The protocol's stores (src/protocol/stores.ts) over IndexedDB, for one account in this
// browser, plus what the messenger keeps beside them: pinned identity keys with their
// "verified" mark and any unaccepted new key, and counters for prekey ids. Private keys are
// stored as the non-extractable CryptoKeys they were made as; each write resolves only when it
// is durable, so ratchet state is on disk before a message is shown.
import { bytesEqual, type Bytes } from '../../crypto/bytes.ts';
import type { LocalIdentity } from '../../protocol/identity.ts';
import type { OneTimePreKeyRecord, PqPreKeyRecord, SignedPreKeyRecord } from '../../protocol/prekeys.ts';
import { readSessionRecord, type SessionRecord } from '../../protocol/session-record.ts';
import type { IdentityKeyStore, PreKeyStore, SessionStore, Trust } from '../../protocol/stores.ts';
import { parseAddress } from './addresses.ts';
import { idbDelete, idbGet, idbGetAllWithPrefix, idbPut, idbPutMany, idbTransaction } from './idb.ts';

export interface ContactKeys {
  /** The identity key trusted for this contact (first seen, or accepted by the user). */
  pinnedKey: Bytes;
  /** The user compared safety numbers and marked them equal; cleared by any key change. */
  verified: boolean;
  /** A different identity key seen for the contact and not yet accepted: sending is blocked. */
  pendingKey: Bytes | null;
  /** Whether the contact was verified when the pending key appeared (the warning says so). */
  wasVerified: boolean;
}

/** An account's verified list of browsers, as messaging/device-directory.ts keeps it. */
interface ListedDevices {
  account: Bytes;
  version: number;
  devices: Array<{ id: string; signingKey: Bytes }>;
}

export class BrowserProtocolStore implements IdentityKeyStore, PreKeyStore, SessionStore {
  /**
   * Pinned keys, read on every seal and open: kept in memory once read. Only this object writes
   * them while the account is open in this page (one page holds an account at a time: another
   * tab's is "elsewhere" and does nothing).
   */
  private readonly contacts = new Map<string, ContactKeys | undefined>();
  /**
   * Session records as last written, read on every seal and open: reading one from IndexedDB
   * also rebuilds its CryptoKeys. The protocol never changes a record it was given (every step
   * makes a new one), and only this object writes them while the account is open in this page.
   * Set only once a write is durable, so it never holds what the disk does not.
   */
  private readonly sessionRecords = new Map<string, SessionRecord>();
  /** Where the verified lists come from (the device directory, which keeps them in memory). */
  lists: { known(peer: string): Promise<ListedDevices | undefined> } | undefined;

  constructor(
    private readonly userId: string,
    private readonly identity: LocalIdentity,
  ) {}

  // ---- identity and pinning

  async localIdentity(): Promise<LocalIdentity> {
    return this.identity;
  }

  async contact(peer: string): Promise<ContactKeys | undefined> {
    if (this.contacts.has(peer)) return this.contacts.get(peer);
    const read = await idbGet<ContactKeys>('contacts', [this.userId, peer]);
    if (!this.contacts.has(peer)) this.contacts.set(peer, read);
    return this.contacts.get(peer);
  }

  private async putContact(peer: string, keys: ContactKeys): Promise<void> {
    await idbPut('contacts', [this.userId, peer], keys);
    this.contacts.set(peer, keys);
  }

  /**
   * `address` is a session's: the username for a contact's browser "1", `name#device` for another
   * of their browsers (messaging/device-directory.ts). Browser "1" of an account without a list is
   * trusted as in v1, by its pinned identity key; any other browser only when the account's
   * verified list names it with this key, and the list is for the pinned account key.
   */
  async trustOf(address: string, identityKey: Bytes): Promise<Trust> {
    const { peer, device } = parseAddress(address);
    const c = await this.contact(peer);
    const listed = this.lists ? await this.lists.known(peer) : await idbGet<ListedDevices>('meta', [this.userId, `devices:${peer}`]);
    if (device === '1' && (!listed || listed.version === 0)) {
      if (!c) return 'new';
      return bytesEqual(c.pinnedKey, identityKey) ? 'trusted' : 'changed';
    }
    if (!c || !listed || !bytesEqual(listed.account, c.pinnedKey)) return 'changed';
    const entry = listed.devices.find((d) => d.id === device);
    return entry && bytesEqual(entry.signingKey, identityKey) ? 'trusted' : 'changed';
  }

  /** Pins a contact's account key; another browser's key is vouched for by the list, never pinned. */
  async pin(address: string, identityKey: Bytes): Promise<void> {
    const { peer, device } = parseAddress(address);
    if (device !== '1') return;
    const c = await this.contact(peer);
    const same = c && bytesEqual(c.pinnedKey, identityKey);
    await this.putContact(peer, {
      pinnedKey: new Uint8Array(identityKey),
      verified: same ? c.verified : false,
      pendingKey: null,
      wasVerified: false,
    });
  }

  /** Records a changed key the user has not accepted yet. */
  async markChanged(peer: string, identityKey: Bytes): Promise<void> {
    const c = await this.contact(peer);
    if (!c || bytesEqual(c.pinnedKey, identityKey)) return;
    await this.putContact(peer, { ...c, pendingKey: new Uint8Array(identityKey), wasVerified: c.verified || c.wasVerified, verified: false });
  }

  async setVerified(peer: string, verified: boolean): Promise<void> {
    const c = await this.contact(peer);
    if (c && !c.pendingKey) await this.putContact(peer, { ...c, verified });
  }

  // ---- prekeys

  signedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    return idbGet('signedPreKeys', [this.userId, id]);
  }
  listSignedPreKeys(): Promise<SignedPreKeyRecord[]> {
    return idbGetAllWithPrefix('signedPreKeys', [this.userId]);
  }
  saveSignedPreKey(r: SignedPreKeyRecord): Promise<void> {
    return idbPut('signedPreKeys', [this.userId, r.id], r);
  }
  deleteSignedPreKey(id: number): Promise<void> {
    return idbDelete('signedPreKeys', [this.userId, id]);
  }

  oneTimePreKey(id: number): Promise<OneTimePreKeyRecord | undefined> {
    return idbGet('oneTimePreKeys', [this.userId, id]);
  }
  saveOneTimePreKeys(records: OneTimePreKeyRecord[]): Promise<void> {
    return idbPutMany('oneTimePreKeys', records.map((r) => [[this.userId, r.id], r]));
  }
  removeOneTimePreKey(id: number): Promise<void> {
    return idbDelete('oneTimePreKeys', [this.userId, id]);
  }

  pqPreKey(id: number): Promise<PqPreKeyRecord | undefined> {
    return idbGet('pqPreKeys', [this.userId, id]);
  }
  savePqPreKey(r: PqPreKeyRecord): Promise<void> {
    return idbPut('pqPreKeys', [this.userId, r.id], r);
  }
  deletePqPreKey(id: number): Promise<void> {
    return idbDelete('pqPreKeys', [this.userId, id]);
  }

  /** Allocates `count` consecutive ids from a named counter (prekey ids must not repeat). */
  async allocateIds(counter: 'signed' | 'oneTime', count: number): Promise<number> {
    const key = [this.userId, `next-${counter}-id`];
    const next = (await idbGet<number>('meta', key)) ?? 1;
    await idbPut('meta', key, next + count);
    return next;
  }

  // ---- sessions

  async load(peer: string): Promise<SessionRecord | undefined> {
    const cached = this.sessionRecords.get(peer);
    if (cached) return cached;
    const raw = await idbGet<unknown>('sessions', [this.userId, peer]);
    return raw === undefined ? undefined : readSessionRecord(raw);
  }

  async store(peer: string, record: SessionRecord): Promise<void> {
    await idbPut('sessions', [this.userId, peer], record);
    this.sessionRecords.set(peer, record);
  }

  /** Several sessions' records in one durable transaction. */
  async storeMany(records: ReadonlyMap<string, SessionRecord>): Promise<void> {
    await idbPutMany('sessions', [...records].map(([peer, record]) => [[this.userId, peer], record]));
    for (const [peer, record] of records) this.sessionRecords.set(peer, record);
  }

  /** Several sessions' records and whatever `alongside` writes, in one durable transaction (a catch-up's batch). */
  async commitSessions<T>(records: ReadonlyMap<string, SessionRecord>, alongside: (tx: IDBTransaction) => Promise<T>): Promise<T> {
    const result = await idbTransaction(['sessions', 'messages', 'conversations', 'outbox', 'transfers', 'meta'], async (tx) => {
      for (const [peer, record] of records) tx.objectStore('sessions').put(record, [this.userId, peer]);
      return alongside(tx);
    });
    for (const [peer, record] of records) this.sessionRecords.set(peer, record);
    return result;
  }
}
