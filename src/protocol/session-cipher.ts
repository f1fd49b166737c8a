// Sessions as a device uses them: start one from a contact's bundle, seal a payload for a
// contact, open an envelope from a contact. Composes session start, the Double Ratchet, padding
// and the envelope format over the store interfaces, and enforces the rules that span them:
//  - key pinning: a contact's identity key is pinned on first contact; a different one blocks
//    sending (identity_changed) until the user accepts it, while messages still decrypt and are
//    reported with trust 'changed' so the UI can warn;
//  - new state is stored before a plaintext is returned, and a failed message stores nothing;
//  - a one-time prekey is used once: a second session start naming it is refused, while a
//    repeat of the same first message finds the session it already made.
// No I/O of its own, no clock or randomness of its own: all come in `deps`.
import type { Bytes } from '../crypto/bytes.ts';
import { bytesEqual } from '../crypto/bytes.ts';
import type { RandomSource } from '../crypto/random.ts';
import { generateDh as defaultGenerateDh, type GenerateDh } from './dh.ts';
import { initAlice, initBob, ratchetDecrypt, ratchetEncrypt, type RatchetDeps } from './double-ratchet.ts';
import { decodeEnvelope, encodeEnvelope, envelopeVersion, ENVELOPE_VERSION } from './envelope.ts';
import { isProtocolError, ProtocolError } from './errors.ts';
import { pad, unpad } from './padding.ts';
import type { PreKeyBundle } from './prekeys.ts';
import { emptyRecord, promote, replaceState, type SessionRecord, type SessionState } from './session-record.ts';
import { initiateSession, respondToSession } from './session-start.ts';
import type { IdentityKeyStore, PreKeyStore, SessionStore, Trust } from './stores.ts';

export interface SessionDeps {
  identities: IdentityKeyStore;
  preKeys: PreKeyStore;
  sessions: SessionStore;
  random: RandomSource;
  now: () => number;
  generateDh?: GenerateDh;
}

/**
 * Persists the session record after a message decrypts, in place of `sessions.store`: lets a
 * caller write the record and what the message changes (history, receipts) in one transaction,
 * so a crash between the two can never consume a message key without keeping the message.
 */
export type Commit = (record: SessionRecord, plaintext: Bytes) => Promise<void>;

export interface Opened {
  plaintext: Bytes;
  /** How the sender's identity key compares with the one pinned for them. */
  trust: Trust;
  identityKey: Bytes;
}

function ratchetDeps(deps: SessionDeps): RatchetDeps {
  return { generateDh: deps.generateDh ?? defaultGenerateDh, random: deps.random, now: deps.now() };
}

export async function hasSession(peer: string, deps: SessionDeps): Promise<boolean> {
  return Boolean((await deps.sessions.load(peer))?.current);
}

/** The identity key of the current session, if any (to compare with the directory's). */
export async function sessionIdentityKey(peer: string, deps: SessionDeps): Promise<Bytes | undefined> {
  return (await deps.sessions.load(peer))?.current?.peerIdentityKey;
}

/** Starts a new session with `peer` from their bundle; nothing is sent until `seal`. */
export async function startSession(peer: string, bundle: PreKeyBundle, deps: SessionDeps): Promise<void> {
  const trust = await deps.identities.trustOf(peer, bundle.identity.signingKey);
  if (trust === 'changed') throw new ProtocolError('identity_changed', `the safety number with ${peer} has changed`);
  const generateDh = deps.generateDh ?? defaultGenerateDh;
  const me = await deps.identities.localIdentity();
  const started = await initiateSession({ me, bundle, random: deps.random, generateDh });
  const state: SessionState = {
    ratchet: await initAlice(started.sharedKey, started.remoteRatchetKey, generateDh),
    associatedData: started.associatedData,
    peerIdentityKey: bundle.identity.signingKey,
    baseKey: started.initial.ephemeralKey,
    pendingPreKey: started.initial,
    createdAt: deps.now(),
  };
  const record = (await deps.sessions.load(peer)) ?? emptyRecord();
  await deps.sessions.store(peer, promote(record, state));
  if (trust === 'new') await deps.identities.pin(peer, bundle.identity.signingKey);
}

/** Pads and encrypts `plaintext` for `peer`, storing the advanced state before returning. */
export async function seal(peer: string, plaintext: Uint8Array, deps: SessionDeps): Promise<Bytes> {
  const record = await deps.sessions.load(peer);
  const current = record?.current;
  if (!record || !current) throw new ProtocolError('no_session', `no session with ${peer}`);
  if ((await deps.identities.trustOf(peer, current.peerIdentityKey)) === 'changed') {
    throw new ProtocolError('identity_changed', `the safety number with ${peer} has changed`);
  }
  const { state, sealed } = await ratchetEncrypt(current.ratchet, pad(plaintext), current.associatedData, ratchetDeps(deps));
  const updated: SessionState = { ...current, ratchet: state };
  await deps.sessions.store(peer, replaceState(record, current, updated));
  return encodeEnvelope(current.pendingPreKey ? { kind: 'prekey', initial: current.pendingPreKey, sealed } : { kind: 'message', sealed });
}

function unpadOrThrow(padded: Uint8Array): Bytes {
  const plaintext = unpad(padded);
  if (!plaintext) throw new ProtocolError('malformed_message', 'the message padding is malformed');
  return plaintext;
}

/** Decrypts an envelope from `peer`. Throws ProtocolError; on error nothing is stored. */
export async function open(peer: string, bytes: Uint8Array, deps: SessionDeps, commit?: Commit): Promise<Opened> {
  const persist: Commit = commit ?? ((record) => deps.sessions.store(peer, record));
  const envelope = decodeEnvelope(bytes);
  if (!envelope) {
    const v = envelopeVersion(bytes);
    if (v !== undefined && v > ENVELOPE_VERSION) throw new ProtocolError('unsupported_version', 'this message needs a newer Parley');
    throw new ProtocolError('malformed_message', 'the message is malformed');
  }
  const record = (await deps.sessions.load(peer)) ?? emptyRecord();
  const states = [record.current, ...record.previous].filter((s): s is SessionState => s !== null);

  if (envelope.kind === 'prekey') {
    const known = states.find((s) => bytesEqual(s.baseKey, envelope.initial.ephemeralKey));
    if (!known) return openFirstMessage(peer, record, envelope.initial, envelope.sealed, deps, persist);
    // A repeat of a first message names the session it made; its identity must be that session's.
    if (!bytesEqual(known.peerIdentityKey, envelope.initial.identity.signingKey)) {
      throw new ProtocolError('decrypt_failed', 'the message does not match the session it names');
    }
    return openWith(peer, record, [known], envelope.sealed, deps, persist);
  }
  return openWith(peer, record, states, envelope.sealed, deps, persist);
}

async function openWith(
  peer: string,
  record: SessionRecord,
  states: SessionState[],
  sealed: Parameters<typeof ratchetDecrypt>[1],
  deps: SessionDeps,
  persist: Commit,
): Promise<Opened> {
  if (states.length === 0) throw new ProtocolError('no_session', `no session with ${peer} to open this message`);
  const errors: ProtocolError[] = [];
  for (const state of states) {
    try {
      const { state: ratchet, plaintext } = await ratchetDecrypt(state.ratchet, sealed, state.associatedData, ratchetDeps(deps));
      const body = unpadOrThrow(plaintext);
      // Any message from the peer in this session proves they have it: stop sending prekey messages.
      const updated: SessionState = { ...state, ratchet, pendingPreKey: null };
      await persist(promote(replaceState(record, state, updated), updated), body);
      return { plaintext: body, trust: await deps.identities.trustOf(peer, state.peerIdentityKey), identityKey: state.peerIdentityKey };
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      errors.push(e);
    }
  }
  throw errors.find((e) => e.code === 'duplicate') ?? errors[0]!;
}

async function openFirstMessage(
  peer: string,
  record: SessionRecord,
  initial: Parameters<typeof respondToSession>[0]['initial'],
  sealed: Parameters<typeof ratchetDecrypt>[1],
  deps: SessionDeps,
  persist: Commit,
): Promise<Opened> {
  const [signedPreKey, pqPreKey, oneTimePreKey] = await Promise.all([
    deps.preKeys.signedPreKey(initial.signedPreKeyId),
    deps.preKeys.pqPreKey(initial.pqPreKeyId),
    initial.oneTimePreKeyId === null ? Promise.resolve(undefined) : deps.preKeys.oneTimePreKey(initial.oneTimePreKeyId),
  ]);
  if (!signedPreKey || !pqPreKey || (initial.oneTimePreKeyId !== null && !oneTimePreKey)) {
    throw new ProtocolError('unknown_prekey', 'the message names a prekey this device no longer has (used already, or retired)');
  }
  const me = await deps.identities.localIdentity();
  const secrets = await respondToSession({ me, initial, signedPreKey, oneTimePreKey, pqPreKey });
  const { state: ratchet, plaintext } = await ratchetDecrypt(initBob(secrets.sharedKey, signedPreKey.keyPair), sealed, secrets.associatedData, ratchetDeps(deps));
  const body = unpadOrThrow(plaintext);
  const trust = await deps.identities.trustOf(peer, initial.identity.signingKey);
  const state: SessionState = {
    ratchet,
    associatedData: secrets.associatedData,
    peerIdentityKey: initial.identity.signingKey,
    baseKey: initial.ephemeralKey,
    pendingPreKey: null,
    createdAt: deps.now(),
  };
  await persist(promote(record, state), body);
  if (oneTimePreKey) await deps.preKeys.removeOneTimePreKey(oneTimePreKey.id);
  if (trust === 'new') await deps.identities.pin(peer, initial.identity.signingKey);
  return { plaintext: body, trust, identityKey: initial.identity.signingKey };
}
