// Signed in: the top bar (who, server state, connect, log out), the call form, and the current
// call, whichever phase it is in.
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';
import { Brand } from './Brand.tsx';
import { CallForm } from './CallForm.tsx';
import { ChatView } from './ChatView.tsx';
import { ConnectionBadge } from './ConnectionBadge.tsx';
import { IncomingCall } from './IncomingCall.tsx';
import { NoticeBanner } from './NoticeBanner.tsx';

export function MainScreen({ client, state }: { client: ParleyClient; state: ParleyState }) {
  const call = state.call;
  const connected = state.connection === 'connected';
  return (
    <div className="main-screen">
      <header className="topbar">
        <Brand small />
        <div className="topbar-right">
          <ConnectionBadge state={state.connection} />
          <button type="button" onClick={() => client.connect()} disabled={connected || state.connection === 'connecting'}>
            Connect
          </button>
          <span className="me" title="Signed in as">
            {state.user?.username}
          </span>
          <button type="button" onClick={() => void client.logout()}>
            Log out
          </button>
        </div>
      </header>
      <NoticeBanner notice={state.notice} onDismiss={() => client.dismissNotice()} />
      <main className="workspace">
        <aside className="sidebar">
          <CallForm client={client} state={state} />
          {!connected && state.connection !== 'elsewhere' && (
            <p className="hint">
              {state.connection === 'offline'
                ? 'You are offline. Press Connect to reach the server.'
                : 'Reaching the server… An open chat keeps working meanwhile.'}
            </p>
          )}
        </aside>
        <div className="stage">
          {call?.phase === 'incoming' ? (
            <IncomingCall client={client} call={call} />
          ) : call ? (
            <ChatView client={client} call={call} />
          ) : (
            <div className="placeholder">
              <h2>Start a conversation</h2>
              <p>Type someone's username and press Start call. You talk directly, browser to browser; only the two of you can read it.</p>
            </div>
          )}
        </div>
      </main>
    </div>
  );
}
