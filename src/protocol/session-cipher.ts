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
import { initAlice, initBob, prefetchDecrypts, ratchetDecrypt, ratchetEncryptMany, type Prefetched, type RatchetDeps } from './double-ratchet.ts';
import { decodeEnvelope, encodeEnvelope, envelopeVersion, ENVELOPE_VERSION, type Envelope } from './envelope.ts';
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
  const [envelope] = await sealRun(peer, [plaintext], deps);
  return envelope!;
}

/**
 * Seals several payloads for `peer` in order, storing the state once, after the last: one
 * durable write for a run of messages instead of one each (a burst, or a file's chunks). Nothing
 * is returned, so nothing can be sent, before that write.
 */
export async function sealRun(peer: string, plaintexts: readonly Uint8Array[], deps: SessionDeps): Promise<Bytes[]> {
  const record = await deps.sessions.load(peer);
  const current = record?.current;
  if (!record || !current) throw new ProtocolError('no_session', `no session with ${peer}`);
  if ((await deps.identities.trustOf(peer, current.peerIdentityKey)) === 'changed') {
    throw new ProtocolError('identity_changed', `the safety number with ${peer} has changed`);
  }
  const { state: ratchet, sealed } = await ratchetEncryptMany(current.ratchet, plaintexts.map(pad), current.associatedData, ratchetDeps(deps));
  await deps.sessions.store(peer, replaceState(record, current, { ...current, ratchet }));
  const initial = current.pendingPreKey;
  return sealed.map((m) => encodeEnvelope(initial ? { kind: 'prekey', initial, sealed: m } : { kind: 'message', sealed: m }));
}

function unpadOrThrow(padded: Uint8Array): Bytes {
  const plaintext = unpad(padded);
  if (!plaintext) throw new ProtocolError('malformed_message', 'the message padding is malformed');
  return plaintext;
}

/** One envelope opened against a record held in memory: the record it leaves, and what must follow its write. */
interface Step {
  record: SessionRecord;
  body: Bytes;
  identityKey: Bytes;
  /** A first message: its one-time prekey to delete and the key to pin once the record is written. */
  first?: { oneTimePreKeyId: number | null; trust: Trust };
}

/** Decrypts an envelope from `peer`. Throws ProtocolError; on error nothing is stored. */
export async function open(peer: string, bytes: Uint8Array, deps: SessionDeps, commit?: Commit): Promise<Opened> {
  const run = await prepareRun(peer, [bytes], deps);
  const outcome = run.outcomes[0]!;
  if (!outcome.ok) throw outcome.error;
  await (commit ?? ((record) => deps.sessions.store(peer, record)))(run.record!, outcome.plaintext);
  const [result] = await run.finish();
  return (result as Extract<RunResult, { ok: true }>).opened;
}

export type RunResult = { ok: true; opened: Opened } | { ok: false; error: ProtocolError };

/**
 * Persists a run of opened envelopes: the record as the last of them left it, with every
 * plaintext, in one write (history and state together, as `Commit` does for one).
 */
export type RunCommit = (record: SessionRecord, plaintexts: Bytes[]) => Promise<void>;

/**
 * Decrypts several envelopes from `peer`, in order, writing the state once after the last (a
 * backlog from the server's queue). Each envelope gets its result: a failed one changes nothing,
 * as alone, and the next is opened against the state before it. The state and every plaintext
 * are written (by `commit`) before any result is returned.
 */
export async function openRun(peer: string, envelopes: readonly Uint8Array[], deps: SessionDeps, commit?: RunCommit): Promise<RunResult[]> {
  const persist: RunCommit = commit ?? ((record) => deps.sessions.store(peer, record));
  const run = await prepareRun(peer, envelopes, deps);
  if (run.record) await persist(run.record, run.outcomes.flatMap((o) => (o.ok ? [o.plaintext] : [])));
  return run.finish();
}

/** A run decrypted and not yet written: the caller writes `record` (with whatever the plaintexts change), then calls `finish`. */
export interface PreparedRun {
  /** The record as the run leaves it; undefined when nothing opened and there is nothing to write. */
  record: SessionRecord | undefined;
  /** Each envelope's plaintext or error, in order. */
  outcomes: Array<{ ok: true; plaintext: Bytes } | { ok: false; error: ProtocolError }>;
  /** Only once `record` is durable: deletes used one-time prekeys, pins first-seen keys, and gives each result. */
  finish(): Promise<RunResult[]>;
}

/**
 * openRun without the write, for a caller that writes several peers' runs in one transaction
 * (a catch-up with messages from many contacts).
 */
export async function prepareRun(peer: string, envelopes: readonly Uint8Array[], deps: SessionDeps): Promise<PreparedRun> {
  const before = (await deps.sessions.load(peer)) ?? emptyRecord();
  let record = before;
  const steps: Array<Step | ProtocolError> = [];
  // One-time prekeys are deleted after the write: until then the run itself must refuse a reuse.
  const used = new Set<number>();
  const decoded = envelopes.map((bytes) => decodeEnvelope(bytes));
  const current = before.current;
  const prefetched = current
    ? prefetchDecrypts(current.ratchet, decoded.flatMap((e) => (e ? [e.sealed] : [])), current.associatedData)
    : undefined;
  for (const [i, bytes] of envelopes.entries()) {
    try {
      const step = await openStep(peer, record, bytes, deps, used, decoded[i], prefetched);
      if (step.first?.oneTimePreKeyId != null) used.add(step.first.oneTimePreKeyId);
      record = step.record;
      steps.push(step);
    } catch (e) {
      if (!isProtocolError(e)) throw e;
      steps.push(e);
    }
  }
  return {
    record: record === before ? undefined : record,
    outcomes: steps.map((s) => (s instanceof ProtocolError ? { ok: false, error: s } : { ok: true, plaintext: s.body })),
    async finish() {
      const results: RunResult[] = [];
      for (const s of steps) results.push(s instanceof ProtocolError ? { ok: false, error: s } : { ok: true, opened: await finish(peer, s, deps) });
      return results;
    },
  };
}

async function finish(peer: string, step: Step, deps: SessionDeps): Promise<Opened> {
  if (step.first) {
    if (step.first.oneTimePreKeyId !== null) await deps.preKeys.removeOneTimePreKey(step.first.oneTimePreKeyId);
    if (step.first.trust === 'new') await deps.identities.pin(peer, step.identityKey);
    return { plaintext: step.body, trust: step.first.trust, identityKey: step.identityKey };
  }
  return { plaintext: step.body, trust: await deps.identities.trustOf(peer, step.identityKey), identityKey: step.identityKey };
}

async function openStep(
  peer: string,
  record: SessionRecord,
  bytes: Uint8Array,
  deps: SessionDeps,
  usedOneTime: ReadonlySet<number>,
  envelope: Envelope | undefined,
  prefetched: Prefetched | undefined,
): Promise<Step> {
  if (!envelope) {
    const v = envelopeVersion(bytes);
    if (v !== undefined && v > ENVELOPE_VERSION) throw new ProtocolError('unsupported_version', 'this message needs a newer Parley');
    throw new ProtocolError('malformed_message', 'the message is malformed');
  }
  const states = [record.current, ...record.previous].filter((s): s is SessionState => s !== null);

  if (envelope.kind === 'prekey') {
    const known = states.find((s) => bytesEqual(s.baseKey, envelope.initial.ephemeralKey));
    if (!known) {
      const id = envelope.initial.oneTimePreKeyId;
      if (id !== null && usedOneTime.has(id)) throw new ProtocolError('unknown_prekey', 'the message names a one-time prekey already used');
      return openFirstMessage(peer, record, envelope.initial, envelope.sealed, deps);
    }
    // A repeat of a first message names the session it made; its identity must be that session's.
    if (!bytesEqual(known.peerIdentityKey, envelope.initial.identity.signingKey)) {
      throw new ProtocolError('decrypt_failed', 'the message does not match the session it names');
    }
    return openWith(peer, record, [known], envelope.sealed, deps, prefetched);
  }
  return openWith(peer, record, states, envelope.sealed, deps, prefetched);
}

async function openWith(
  peer: string,
  record: SessionRecord,
  states: SessionState[],
  sealed: Parameters<typeof ratchetDecrypt>[1],
  deps: SessionDeps,
  prefetched?: Prefetched,
): Promise<Step> {
  if (states.length === 0) throw new ProtocolError('no_session', `no session with ${peer} to open this message`);
  const errors: ProtocolError[] = [];
  for (const state of states) {
    try {
      const { state: ratchet, plaintext } = await ratchetDecrypt(state.ratchet, sealed, state.associatedData, ratchetDeps(deps), prefetched);
      const body = unpadOrThrow(plaintext);
      // Any message from the peer in this session proves they have it: stop sending prekey messages.
      const updated: SessionState = { ...state, ratchet, pendingPreKey: null };
      return { record: promote(replaceState(record, state, updated), updated), body, identityKey: state.peerIdentityKey };
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
): Promise<Step> {
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
  return { record: promote(record, state), body, identityKey: initial.identity.signingKey, first: { oneTimePreKeyId: oneTimePreKey ? oneTimePreKey.id : null, trust } };
}
