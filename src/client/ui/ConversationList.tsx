// The conversations on this browser, newest first. Each entry is a button named by the contact's
// username or the group's name (its accessible name is exactly that); a group's members, the
// unread count and the last message describe it.
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';

function when(at: number): string {
  const d = new Date(at);
  const today = new Date();
  return d.toDateString() === today.toDateString() ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString();
}

export function ConversationList({ client, state }: { client: ParleyClient; state: ParleyState }) {
  if (state.conversations.length === 0) {
    return <p className="hint">Your conversations will appear here.</p>;
  }
  return (
    <ul className="conversations" role="list" aria-label="Conversations">
      {state.conversations.map((c) => {
        const descId = `conv-${c.peer.replace(':', '-')}`;
        const active = state.active?.peer === c.peer;
        return (
          <li key={c.peer}>
            <button
              type="button"
              className={active ? 'conversation conversation-active' : 'conversation'}
              aria-label={c.title}
              aria-describedby={descId}
              aria-current={active ? 'true' : undefined}
              onClick={() => void client.openConversation(c.peer)}
            >
              <span className="avatar" aria-hidden="true">
                {c.title.slice(0, 1).toUpperCase()}
              </span>
              <span className="conversation-body">
                <span className="conversation-name">{c.title}</span>
                {c.members && <span className="conversation-members">{c.members.join(', ')}</span>}
                <span className="conversation-last" id={descId}>
                  {c.members ? <span className="sr-only">{c.members.join(', ')} · </span> : null}
                  {c.unread > 0 ? `${c.unread} unread · ` : ''}
                  {c.lastText ? `${c.lastFromMe ? 'You: ' : ''}${c.lastText}` : 'No messages yet'}
                </span>
              </span>
              <span className="conversation-meta" aria-hidden="true">
                {c.lastText && <span className="conversation-time">{when(c.lastAt)}</span>}
                {c.unread > 0 && <span className="unread">{c.unread}</span>}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
