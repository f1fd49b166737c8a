// In-memory stores: the reference implementation of stores.ts, used by tests and benchmarks.
// Records are deep-copied in and out (structuredClone), as IndexedDB would, so a test cannot
// pass by mutating an object the store still holds.
import { bytesEqual, type Bytes } from '../crypto/bytes.ts';
import type { LocalIdentity } from './identity.ts';
import type { OneTimePreKeyRecord, PqPreKeyRecord, SignedPreKeyRecord } from './prekeys.ts';
import type { SessionRecord } from './session-record.ts';
import type { IdentityKeyStore, PreKeyStore, SessionStore, Trust } from './stores.ts';

export class MemoryIdentityStore implements IdentityKeyStore {
  private readonly pins = new Map<string, Bytes>();
  constructor(private readonly local: LocalIdentity) {}
  async localIdentity() {
    return this.local;
  }
  async trustOf(peer: string, key: Bytes): Promise<Trust> {
    const pinned = this.pins.get(peer);
    if (!pinned) return 'new';
    return bytesEqual(pinned, key) ? 'trusted' : 'changed';
  }
  async pin(peer: string, key: Bytes) {
    this.pins.set(peer, new Uint8Array(key));
  }
}

export class MemoryPreKeyStore implements PreKeyStore {
  readonly signed = new Map<number, SignedPreKeyRecord>();
  readonly oneTime = new Map<number, OneTimePreKeyRecord>();
  readonly pq = new Map<number, PqPreKeyRecord>();
  async signedPreKey(id: number) {
    return this.signed.get(id);
  }
  async oneTimePreKey(id: number) {
    return this.oneTime.get(id);
  }
  async removeOneTimePreKey(id: number) {
    this.oneTime.delete(id);
  }
  async pqPreKey(id: number) {
    return this.pq.get(id);
  }
}

export class MemorySessionStore implements SessionStore {
  private readonly records = new Map<string, SessionRecord>();
  writes = 0;
  async load(peer: string) {
    const r = this.records.get(peer);
    return r && structuredClone(r);
  }
  async store(peer: string, record: SessionRecord) {
    this.writes++;
    this.records.set(peer, structuredClone(record));
  }
}
