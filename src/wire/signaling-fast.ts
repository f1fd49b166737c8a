// The relay checks every frame it hands on; a call trickles dozens of ICE candidates, so the
// check of a `signal` frame is on the relay's hottest path. Zod's parse copies the frame into
// new objects and was about a fifth of the relay's own work per frame (bench:signaling, issue
// #5). This accepts only frames in exactly the shape `clientFrame` describes, with no key it
// would strip, and returns the parsed value itself; anything else, well-formed or not, is left
// to `clientFrame`, which stays the one authority on what a frame may be and how an error reads.
// test/wire/signaling-fast.test.ts holds the two to the same answers.
import { SDP_MAX_CHARS, type ClientFrame } from './signaling.ts';

const CLIENT_ID = /^[A-Za-z0-9_-]{16,64}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True if every own key of `o` is one of `allowed`. */
function onlyKeys(o: Record<string, unknown>, allowed: readonly string[]): boolean {
  for (const k in o) if (!allowed.includes(k)) return false;
  return true;
}

// The allowed keys of each shape, made once: an array literal in the call would be a new array
// for every frame checked.
const SIGNAL_KEYS = ['type', 'to', 'toDevice', 'callId', 'data'] as const;
const DEVICE_ID = /^[A-Za-z0-9_-]{1,16}$/;
const PING_KEYS = ['type'] as const;
const CANDIDATE_KEYS = ['candidate', 'sdpMid', 'sdpMLineIndex', 'usernameFragment'] as const;
const SDP_KEYS = ['kind', 'sdp'] as const;
const ICE_KEYS = ['kind', 'candidate'] as const;
const DECLINE_KEYS = ['kind', 'reason'] as const;
const KIND_KEYS = ['kind'] as const;
const HANGUP_KEYS = ['kind', 'reason'] as const;

const optionalString = (v: unknown, max: number) => v === undefined || v === null || (typeof v === 'string' && v.length <= max);

function iceCandidate(c: unknown): boolean {
  if (c === null) return true;
  if (!isObject(c) || !onlyKeys(c, CANDIDATE_KEYS)) return false;
  const line = c.sdpMLineIndex;
  return (
    typeof c.candidate === 'string' &&
    c.candidate.length <= 1024 &&
    optionalString(c.sdpMid, 64) &&
    (line === undefined || line === null || (typeof line === 'number' && Number.isInteger(line) && line >= 0 && line <= 64)) &&
    optionalString(c.usernameFragment, 256)
  );
}

function signalData(d: unknown): boolean {
  if (!isObject(d)) return false;
  switch (d.kind) {
    case 'offer':
    case 'answer':
      return onlyKeys(d, SDP_KEYS) && typeof d.sdp === 'string' && d.sdp.length >= 1 && d.sdp.length <= SDP_MAX_CHARS;
    case 'ice':
      return onlyKeys(d, ICE_KEYS) && 'candidate' in d && iceCandidate(d.candidate);
    case 'decline':
      return onlyKeys(d, DECLINE_KEYS) && (d.reason === 'declined' || d.reason === 'busy' || d.reason === 'mismatch');
    case 'hangup':
      // A reason this version does not know is caught to undefined by `clientFrame`: left to it.
      return onlyKeys(d, HANGUP_KEYS) && (!('reason' in d) || d.reason === 'answered');
    case 'restart':
      return onlyKeys(d, KIND_KEYS);
    default:
      return false;
  }
}

/**
 * `value` as a ClientFrame if it is a `signal` or `ping` frame in exactly the shape
 * `clientFrame` accepts and would return unchanged; undefined means "ask `clientFrame`".
 */
export function exactRelayFrame(value: unknown): ClientFrame | undefined {
  if (!isObject(value)) return undefined;
  if (value.type === 'ping') return onlyKeys(value, PING_KEYS) ? (value as ClientFrame) : undefined;
  if (value.type !== 'signal' || !onlyKeys(value, SIGNAL_KEYS)) return undefined;
  const { to, callId } = value;
  if (typeof to !== 'string' || to.length < 1 || to.length > 128) return undefined;
  if (typeof callId !== 'string' || !CLIENT_ID.test(callId)) return undefined;
  if ('toDevice' in value && (typeof value.toDevice !== 'string' || !DEVICE_ID.test(value.toDevice))) return undefined;
  return signalData(value.data) ? (value as ClientFrame) : undefined;
}
