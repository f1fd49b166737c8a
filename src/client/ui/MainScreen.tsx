// Signed in: the top bar (who, server state, connect, log out), the sidebar (new chat, the
// conversations, settings), and the stage (the call on now, and the open conversation). A call
// ringing here shows over everything.
import { useState } from 'react';
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';
import { Brand } from './Brand.tsx';
import { NewChatForm } from './NewChatForm.tsx';
import { NewGroupForm } from './NewGroupForm.tsx';
import { CallPanel } from './CallPanel.tsx';
import { ChatView } from './ChatView.tsx';
import { ConnectionBadge } from './ConnectionBadge.tsx';
import { CatchUpStatus } from './CatchUpStatus.tsx';
import { ConversationList } from './ConversationList.tsx';
import { ContactsPanel } from './ContactsPanel.tsx';
import { IncomingCall } from './IncomingCall.tsx';
import { LogoutDialog } from './LogoutDialog.tsx';
import { AboutParley } from './CodeTrust.tsx';
import type { CodePin } from '../messaging/code-pin.ts';
import { ChangePasswordDialog } from './ChangePasswordDialog.tsx';
import { NoticeBanner } from './NoticeBanner.tsx';
import { LinkedBrowsers } from './LinkedBrowsers.tsx';

export function MainScreen({ client, state, code }: { client: ParleyClient; state: ParleyState; code: CodePin }) {
  const [loggingOut, setLoggingOut] = useState(false);
  const [changingPassword, setChangingPassword] = useState(false);
  const [tab, setTab] = useState<'chats' | 'contacts'>('chats');
  const sideTab = (t: 'chats' | 'contacts', label: string) => (
    <button type="button" role="tab" aria-selected={tab === t} aria-controls={`side-${t}`} id={`side-tab-${t}`} className={tab === t ? 'tab tab-active' : 'tab'} onClick={() => setTab(t)}>
      {label}
    </button>
  );
  const connected = state.connection === 'connected';
  return (
    <div className="main-screen">
      <header className="topbar">
        <Brand small />
        <div className="topbar-right">
          <ConnectionBadge state={state.connection} />
          <button type="button" className="topbar-connect" onClick={() => client.connect()} disabled={connected || state.connection === 'connecting'}>
            Connect
          </button>
          <span className="me" title="Signed in as">
            {state.user?.username}
          </span>
          <AboutParley code={code} />
          <button type="button" onClick={() => setLoggingOut(true)}>
            Log out
          </button>
        </div>
      </header>
      <NoticeBanner notice={state.notice} onDismiss={() => client.dismissNotice()} />
      <main className={state.active ? 'workspace workspace-chat' : 'workspace'}>
        <aside className="sidebar">
          <NewChatForm client={client} />
          <NewGroupForm client={client} />
          {!connected && state.connection !== 'elsewhere' && (
            <p className="hint">
              {state.connection === 'offline'
                ? 'You are offline. Press Connect to reach the server.'
                : 'Reaching the server… An open call keeps working meanwhile.'}
            </p>
          )}
          <CatchUpStatus progress={state.catchUp} />
          <div role="tablist" aria-label="Sidebar" className="tabs">
            {sideTab('chats', 'Chats')}
            {sideTab('contacts', 'Contacts')}
          </div>
          <div role="tabpanel" id={`side-${tab}`} aria-labelledby={`side-tab-${tab}`}>
            {tab === 'chats' ? <ConversationList client={client} state={state} /> : <ContactsPanel client={client} state={state} />}
          </div>
          <label className="setting">
            <input type="checkbox" checked={state.readReceipts} onChange={(e) => void client.setReadReceipts(e.target.checked)} />
            Send read receipts
          </label>
          {state.notifications === 'default' && (
            <button type="button" className="link-button" onClick={() => void client.enableNotifications()}>
              Turn on notifications
            </button>
          )}
          <button type="button" className="link-button" onClick={() => setChangingPassword(true)}>
            Change password
          </button>
          <LinkedBrowsers client={client} state={state} />
        </aside>
        <div className="stage">
          {state.call && state.call.phase !== 'incoming' && <CallPanel client={client} call={state.call} />}
          {state.active ? (
            <ChatView client={client} state={state} conversation={state.active} />
          ) : (
            <div className="placeholder">
              <h2>Start a conversation</h2>
              <p>
                Type someone's username and press Start chat. With your contacts you talk directly, browser to browser,
                when you are both online, and through the server's encrypted mailbox when not; only the two of you can
                read it. Voice and video calls start from the conversation.
              </p>
            </div>
          )}
        </div>
      </main>
      {state.incoming && <IncomingCall client={client} call={state.incoming} />}
      {loggingOut && <LogoutDialog client={client} onClose={() => setLoggingOut(false)} />}
      {changingPassword && <ChangePasswordDialog client={client} state={state} onClose={() => setChangingPassword(false)} />}
    </div>
  );
}
