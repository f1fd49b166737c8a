// What the protocol needs persisted, as interfaces (libsignal storage/traits.rs in spirit).
// The browser implements them over IndexedDB; tests use the in-memory ones in memory-stores.ts.
// Each method resolves once the data is durable, because the protocol writes new ratchet state
// before anything is shown or acknowledged.
import type { Bytes } from '../crypto/bytes.ts';
import type { LocalIdentity } from './identity.ts';
import type { OneTimePreKeyRecord, PqPreKeyRecord, SignedPreKeyRecord } from './prekeys.ts';
import type { SessionRecord } from './session-record.ts';

/** 'new': never seen; 'trusted': matches the pinned key; 'changed': differs from the pinned key. */
export type Trust = 'new' | 'trusted' | 'changed';

export interface IdentityKeyStore {
  localIdentity(): Promise<LocalIdentity>;
  trustOf(peer: string, identityKey: Bytes): Promise<Trust>;
  /** Pins `identityKey` as the peer's (first contact, or after the user accepted a change). */
  pin(peer: string, identityKey: Bytes): Promise<void>;
}

export interface PreKeyStore {
  signedPreKey(id: number): Promise<SignedPreKeyRecord | undefined>;
  oneTimePreKey(id: number): Promise<OneTimePreKeyRecord | undefined>;
  removeOneTimePreKey(id: number): Promise<void>;
  pqPreKey(id: number): Promise<PqPreKeyRecord | undefined>;
}

export interface SessionStore {
  load(peer: string): Promise<SessionRecord | undefined>;
  store(peer: string, record: SessionRecord): Promise<void>;
}
