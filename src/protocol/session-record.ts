// What a device keeps per contact: the current ratchet session and a few previous ones (a
// message sealed under an older session can still arrive, e.g. when both sides started a
// session at once, or a queued message outlives a new start). Records carry a version number;
// `readSessionRecord` accepts every version ever written and refuses anything else, so saved
// sessions survive upgrades of Parley.
import type { Bytes } from '../crypto/bytes.ts';
import type { RatchetState } from './double-ratchet.ts';
import { ProtocolError } from './errors.ts';
import type { InitialInfo } from './session-start.ts';

export const SESSION_RECORD_VERSION = 1;
export const MAX_PREVIOUS_SESSIONS = 10;

export interface SessionState {
  ratchet: RatchetState;
  associatedData: Bytes;
  /** The peer's identity signing key IK this session was made with. */
  peerIdentityKey: Bytes;
  /** The initiator's ephemeral key EK: names the session, so a repeated first message finds it. */
  baseKey: Bytes;
  /** Set on the initiator's side until the first reply: every message then goes as a prekey message. */
  pendingPreKey: InitialInfo | null;
  createdAt: number;
}

export interface SessionRecord {
  version: typeof SESSION_RECORD_VERSION;
  current: SessionState | null;
  previous: SessionState[];
}

export function emptyRecord(): SessionRecord {
  return { version: SESSION_RECORD_VERSION, current: null, previous: [] };
}

/** Makes `state` current, keeping the old current one among the previous sessions. */
export function promote(record: SessionRecord, state: SessionState): SessionRecord {
  const others = [record.current, ...record.previous].filter((s): s is SessionState => s !== null && s !== state && !sameSession(s, state));
  return { version: SESSION_RECORD_VERSION, current: state, previous: others.slice(0, MAX_PREVIOUS_SESSIONS) };
}

function sameSession(a: SessionState, b: SessionState): boolean {
  if (a.baseKey.length !== b.baseKey.length) return false;
  for (let i = 0; i < a.baseKey.length; i++) if (a.baseKey[i] !== b.baseKey[i]) return false;
  return true;
}

/** Replaces one state of the record with its updated copy, leaving which is current unchanged. */
export function replaceState(record: SessionRecord, old: SessionState, updated: SessionState): SessionRecord {
  return {
    version: SESSION_RECORD_VERSION,
    current: record.current === old ? updated : record.current,
    previous: record.previous.map((s) => (s === old ? updated : s)),
  };
}

export function readSessionRecord(raw: unknown): SessionRecord {
  const r = raw as Partial<SessionRecord> | null;
  if (!r || typeof r !== 'object' || !('version' in r)) throw new ProtocolError('unsupported_version', 'session record is not readable');
  switch (r.version) {
    case 1:
      if (!Array.isArray(r.previous) || (r.current !== null && typeof r.current !== 'object')) {
        throw new ProtocolError('unsupported_version', 'session record v1 is damaged');
      }
      return r as SessionRecord;
    default:
      throw new ProtocolError('unsupported_version', `session record version ${String(r.version)} is newer than this Parley`);
  }
}
