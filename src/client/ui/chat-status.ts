// The one line under a contact's name (role=status) that says how messages travel now:
// ringing, looking for a path, direct or through a TURN relay (both end-to-end encrypted),
// reconnecting, no path at all (then the server's encrypted queue carries them), or offline.
import type { ActiveConversation, SignalingState } from '../messaging/parley-client.ts';

export type StatusTone = 'ok' | 'warn' | 'muted';

export interface ChatStatus {
  text: string;
  tone: StatusTone;
}

export function chatStatus(c: ActiveConversation, connection: SignalingState): ChatStatus {
  const call = c.call;
  if (call?.phase === 'calling') return { text: 'Calling…', tone: 'muted' };
  if (call?.phase === 'connecting') return { text: 'Connecting…', tone: 'muted' };
  if (call?.phase === 'open') {
    if (call.path === 'reconnecting') return { text: `Reconnecting to ${c.peer}… · messages go through the server meanwhile`, tone: 'warn' };
    if (call.path === 'connecting') return { text: 'End-to-end encrypted · checking the connection…', tone: 'muted' };
    return call.binding === 'verified'
      ? { text: `End-to-end encrypted · ${call.path}`, tone: 'ok' }
      : { text: `End-to-end encrypted · checking the ${call.path} connection…`, tone: 'muted' };
  }
  if (connection !== 'connected') return { text: 'Offline · messages will be sent when you reconnect', tone: 'warn' };
  if (call?.phase === 'ended' && (call.ended?.reason === 'no-path' || call.ended?.reason === 'failed')) {
    return { text: `Cannot reach ${c.peer} directly · messages go through the server`, tone: 'warn' };
  }
  return { text: 'End-to-end encrypted · via server', tone: 'muted' };
}
