// The line a call leaves in its conversation ("Voice call · 2:31", "Missed video call"), from
// how it ended and who called. Each side writes its own; nothing of it is ever sent.
import type { CallLog, CallOutcome } from '../platform/history-store.ts';
import type { EndReason } from './call-types.ts';

/** "0:07", "2:31", "1:02:03". */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** What the log remembers of a call that ended for `reason`, having carried media for `durationMs`. */
export function outcomeOf(reason: EndReason, role: 'caller' | 'callee', durationMs: number): CallOutcome {
  if (durationMs > 0 && (reason === 'hung-up' || reason === 'left')) return 'completed';
  switch (reason) {
    case 'no-answer':
      return role === 'caller' ? 'no-answer' : 'missed';
    case 'cancelled':
      return role === 'caller' ? 'cancelled' : 'missed';
    case 'hung-up':
      // Hanging up before it was answered: the caller cancelled; the callee declined.
      return role === 'caller' ? 'cancelled' : 'declined';
    case 'declined':
      return 'declined';
    case 'busy':
      return 'busy';
    case 'unavailable':
      return 'unavailable';
    case 'intercepted':
      return 'intercepted';
    case 'answered-elsewhere':
      return 'completed';
    default:
      return 'failed';
  }
}

export function callLine(log: CallLog, direction: 'out' | 'in', peer: string): string {
  const kind = log.media === 'video' ? 'Video call' : 'Voice call';
  const lower = kind.toLowerCase();
  switch (log.outcome) {
    case 'completed':
      return `${kind} · ${formatDuration(log.durationMs)}`;
    case 'missed':
      return `Missed ${lower}`;
    case 'no-answer':
      return `${kind} · No answer`;
    case 'declined':
      return direction === 'out' ? `${kind} · Declined` : `Declined ${lower}`;
    case 'busy':
      return direction === 'out' ? `${kind} · ${peer} was busy` : `Missed ${lower} · you were in another call`;
    case 'cancelled':
      return `${kind} · Cancelled`;
    case 'unavailable':
      return `${kind} · ${peer} was not reachable`;
    case 'intercepted':
      return `${kind} · Ended: the connection was not secure`;
    case 'failed':
      return log.durationMs > 0 ? `${kind} · ${formatDuration(log.durationMs)} · connection lost` : `${kind} · Could not connect`;
  }
}
