// What the UI and the rest of the client see of a voice or video call.
import type { CallMedia } from '../../wire/index.ts';
import type { PathState } from '../messaging/connection-watch.ts';

export type { CallMedia };

/** calling: the caller waits; incoming: it rings here; connecting: answered, media not yet flowing; open: media flows. */
export type CallPhase = 'calling' | 'incoming' | 'connecting' | 'open' | 'ended';

export type EndReason =
  | 'declined'
  | 'busy'
  | 'unavailable'
  | 'no-answer'
  | 'cancelled'
  | 'left'
  | 'hung-up'
  | 'failed'
  | 'no-path'
  | 'intercepted'
  | 'no-relay'
  | 'not-sent'
  | 'answered-elsewhere';

export interface CallView {
  id: string;
  peer: string;
  role: 'caller' | 'callee';
  media: CallMedia;
  phase: CallPhase;
  /** When media began to flow (ms since the epoch): the running duration counts from here. */
  startedAt: number | null;
  path: PathState;
  /** ICE was limited to TURN relays (a call with someone who is not a mutual contact). */
  relayOnly: boolean;
  /** Frames are sealed end to end with keys from the ratchet (both browsers can). */
  frameCrypto: boolean;
  muted: boolean;
  camera: boolean;
  sharing: boolean;
  /** What the other side last said it sends. */
  peerMuted: boolean;
  peerCamera: boolean;
  peerSharing: boolean;
  /** getStats shows loss or a falling bitrate. */
  poor: boolean;
  /** Our camera (or screen) for the preview, and what comes from the other side. */
  localVideo: MediaStream | null;
  remoteAudio: MediaStream | null;
  remoteVideo: MediaStream | null;
  /** A device that is refused, missing or busy, and how the call goes on without it. */
  deviceNotice: string | null;
  ended?: { reason: EndReason; text: string };
}

export function endText(reason: EndReason, peer: string): string {
  switch (reason) {
    case 'declined':
      return `${peer} declined the call.`;
    case 'busy':
      return `${peer} is in another call.`;
    case 'unavailable':
      return `${peer} cannot be reached for a call right now.`;
    case 'no-answer':
      return `No answer from ${peer}.`;
    case 'cancelled':
      return `${peer} hung up before you answered.`;
    case 'left':
      return `${peer} ended the call.`;
    case 'hung-up':
      return 'You ended the call.';
    case 'failed':
      return `The call with ${peer} was lost: the connection dropped and could not be found again.`;
    case 'no-path':
      return `The call with ${peer} could not connect: no network path was found between your browsers.`;
    case 'intercepted':
      return `The call with ${peer} was ended because its connection does not match on both ends: someone may be intercepting it. No audio or video was sent. Try again, ideally on another network.`;
    case 'no-relay':
      return `Calls with someone who is not a mutual contact go through a relay, so neither of you learns the other's address, and this Parley server has no relay (TURN) set up.`;
    case 'not-sent':
      return `The call to ${peer} could not be started: their keys could not be reached or verified.`;
    case 'answered-elsewhere':
      return 'Answered in another browser.';
  }
}
