import type { SignalingState } from '../messaging/parley-client.ts';

const LABELS: Record<SignalingState, string> = {
  offline: 'Offline',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  elsewhere: 'Open in another tab',
};

export function ConnectionBadge({ state }: { state: SignalingState }) {
  return (
    <span className={`badge badge-${state}`} role="status" aria-label={`Server: ${LABELS[state]}`}>
      <span className="dot" aria-hidden="true" />
      {LABELS[state]}
    </span>
  );
}
