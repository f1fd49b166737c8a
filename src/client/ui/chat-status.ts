// The one line under a contact's name (role=status) that says how messages travel now: through
// the server while the direct channel is being set up, then direct or through a TURN relay
// (all end-to-end encrypted), reconnecting, no path at all (the server's encrypted queue
// carries them), or offline.
import type { ActiveConversation, SignalingState } from '../messaging/parley-client.ts';

export type StatusTone = 'ok' | 'warn' | 'muted';

export interface ChatStatus {
  text: string;
  tone: StatusTone;
}

export function chatStatus(c: ActiveConversation, connection: SignalingState): ChatStatus {
  const link = c.link;
  if (link?.phase === 'open') {
    if (link.path === 'reconnecting') return { text: `Reconnecting to ${c.peer}… · messages go through the server meanwhile`, tone: 'warn' };
    if (link.path === 'connecting') return { text: 'End-to-end encrypted · checking the connection…', tone: 'muted' };
    return link.binding === 'verified'
      ? { text: `End-to-end encrypted · ${link.path}`, tone: 'ok' }
      : { text: `End-to-end encrypted · checking the ${link.path} connection…`, tone: 'muted' };
  }
  if (connection !== 'connected') return { text: 'Offline · messages will be sent when you reconnect', tone: 'warn' };
  if (link?.phase === 'connecting') return { text: 'End-to-end encrypted · via server, connecting directly…', tone: 'muted' };
  if (link?.phase === 'ended' && (link.ended === 'no-path' || link.ended === 'failed')) {
    return { text: `Cannot reach ${c.peer} directly · messages go through the server`, tone: 'warn' };
  }
  return { text: 'End-to-end encrypted · via server', tone: 'muted' };
}
