// The open conversation: its history (messages with their delivery state, files, the lines
// calls leave), a composer (Enter sends, Shift+Enter breaks the line), the contact's security
// state (safety number, verified, key change), and the buttons that start a voice or video call.
// Messages go over the direct channel when it is up, through the server's encrypted queue
// otherwise.
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { ActiveConversation, MessageView, ParleyClient, ParleyState } from '../messaging/parley-client.ts';
import { chatStatus } from './chat-status.ts';
import { KeyChangeAlert } from './KeyChangeAlert.tsx';
import { SafetyNumberPanel } from './SafetyNumberPanel.tsx';
import { RelationBanner } from './RelationBanner.tsx';
import { FileBubble } from './FileBubble.tsx';
import { GroupInfoPanel } from './GroupInfoPanel.tsx';
import { GroupRequestBanner } from './GroupRequestBanner.tsx';
import { GroupReceipts } from './GroupReceipts.tsx';

const STATE_TEXT = { sending: 'Sending…', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' } as const;

function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function dayOf(at: number): string {
  return new Date(at).toLocaleDateString([], { weekday: 'long', year: 'numeric', month: 'long', day: 'numeric' });
}

function Bubble({ m, peer, client }: { m: MessageView; peer: string; client: ParleyClient }) {
  if (m.call) {
    return (
      <p className={`call-line ${m.call.missed ? 'call-line-missed' : ''}`}>
        <span aria-hidden="true">{m.call.media === 'video' ? '🎥 ' : '📞 '}</span>
        {m.text}
        <time dateTime={new Date(m.at).toISOString()}> · {time(m.at)}</time>
      </p>
    );
  }
  if (m.from === 'system') return <p className="system-note">{m.text}</p>;
  return (
    <div className={`bubble bubble-${m.from}`}>
      {m.sender ? <span className="bubble-sender">{m.sender}: </span> : <span className="sr-only">{m.from === 'me' ? 'You' : peer}: </span>}
      {m.file ? <FileBubble client={client} id={m.id} file={m.file} mine={m.from === 'me'} /> : <span className="bubble-text">{m.text}</span>}
      <span className="bubble-meta">
        <time dateTime={new Date(m.at).toISOString()}>{time(m.at)}</time>
        {m.from === 'me' && m.receipts && <GroupReceipts receipts={m.receipts} state={m.state} />}
        {m.from === 'me' && m.state && !m.file && !m.receipts && <span className={`delivery delivery-${m.state}`}>{STATE_TEXT[m.state]}</span>}
      </span>
    </div>
  );
}

export function ChatView({ client, state, conversation }: { client: ParleyClient; state: ParleyState; conversation: ActiveConversation }) {
  const id = useId();
  const [draft, setDraft] = useState('');
  const [showSafety, setShowSafety] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const { peer, security, messages, group } = conversation;
  const title = group ? group.name : peer;
  const keyBlocked = Boolean(security?.keyChanged);
  const blocked = keyBlocked || conversation.relation === 'blocked' || (group !== null && !group.amMember);
  const canCall = state.connection === 'connected' && !blocked && !state.call;
  const direct = conversation.link?.phase === 'open' && conversation.link.path !== 'reconnecting';
  const status = chatStatus(conversation, state.connection);

  useEffect(() => {
    const log = logRef.current;
    if (log && stick.current) log.scrollTop = log.scrollHeight;
  }, [messages.length]);

  useEffect(() => {
    setShowSafety(false);
    stick.current = true;
  }, [peer]);

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!draft.trim() || blocked) return;
    const text = draft;
    setDraft('');
    if (!(await client.send(text))) setDraft(text);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  };

  let lastDay = '';
  return (
    <section className="chat" aria-label={group ? `Group ${group.name}` : `Chat with ${peer}`}>
      <header className="chat-header">
        <button type="button" className="icon-button back" aria-label="Back to conversations" onClick={() => client.closeConversation()}>
          ‹
        </button>
        <div className="avatar" aria-hidden="true">
          {title.slice(0, 1).toUpperCase()}
        </div>
        <div className="chat-title">
          <h2>
            {title}
            {security?.verified && (
              <span className="verified" title="You verified this safety number">
                Verified
              </span>
            )}
          </h2>
          {group && <p className="presence-line">{group.members.map((m) => (m.me ? 'you' : m.name)).join(', ')}</p>}
          {conversation.online !== null && (
            <p className={`presence-line ${conversation.online ? 'is-online' : ''}`}>{conversation.online ? 'online' : 'offline'}</p>
          )}
          <p className={`chat-status chat-status-${status.tone}`} role="status">
            <svg className="lock" aria-hidden="true" viewBox="0 0 16 16">
              <path d="M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 13.5v-5A1.5 1.5 0 0 1 3.5 7H4zm2 0h4V5a2 2 0 1 0-4 0v2z" />
            </svg>
            {status.text}
          </p>
        </div>
        {group ? (
          <button type="button" aria-expanded={group.infoOpen} onClick={() => void client.setGroupInfoOpen(!group.infoOpen)}>
            Group info
          </button>
        ) : (
          <>
            <button type="button" aria-expanded={showSafety} onClick={() => setShowSafety((v) => !v)} disabled={!security?.safetyNumber}>
              Safety number
            </button>
            <button type="button" className="call-button" onClick={() => void client.startCall('voice')} disabled={!canCall}>
              Voice call
            </button>
            <button type="button" className="call-button" onClick={() => void client.startCall('video')} disabled={!canCall}>
              Video call
            </button>
          </>
        )}
      </header>
      {group ? <GroupRequestBanner client={client} group={group} /> : <RelationBanner client={client} conversation={conversation} />}
      {group?.members
        .filter((m) => m.keyChanged)
        .map((m) => (
          <KeyChangeAlert key={m.name} peer={m.name} security={{ safetyNumber: null, verified: m.verified, keyChanged: true, wasVerified: Boolean(m.security?.wasVerified), devices: null }} onAccept={() => void client.acceptNewSafetyNumber(m.name)} />
        ))}
      {group?.infoOpen && <GroupInfoPanel client={client} group={group} />}
      {security && keyBlocked && <KeyChangeAlert peer={peer} security={security} onAccept={() => void client.acceptNewSafetyNumber()} />}
      {security && showSafety && (
        <div
          onKeyDown={(e) => {
            if (e.key === 'Escape') setShowSafety(false);
          }}
        >
          <SafetyNumberPanel peer={peer} security={security} onVerify={(v) => void client.setVerified(v)} onClose={() => setShowSafety(false)} />
        </div>
      )}
      <div
        className="log"
        role="log"
        aria-label="Messages"
        aria-live="polite"
        tabIndex={0}
        ref={logRef}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {messages.length === 0 && <p className="empty">Say hello. Only {group ? 'the members' : peer} can read what you write here.</p>}
        {messages.map((m) => {
          const day = dayOf(m.at);
          const separator = day !== lastDay && m.from !== 'system';
          if (separator) lastDay = day;
          return (
            <div key={m.id} className="message-row">
              {separator && (
                <p className="day-separator" role="separator">
                  {day}
                </p>
              )}
              <Bubble m={m} peer={peer} client={client} />
            </div>
          );
        })}
      </div>
      <p className="typing" aria-live="polite">
        {group ? (group.typing.length ? `${group.typing.join(', ')} ${group.typing.length === 1 ? 'is' : 'are'} typing…` : '') : conversation.typing ? `${peer} is typing…` : ''}
      </p>
      <form className="composer" onSubmit={(e) => void send(e)}>
        <label
          className={`attach ${(direct || group) && !blocked ? '' : 'attach-off'}`}
          title={group ? 'Send a file directly to the members who are your contacts' : direct ? 'Send a file directly' : `Files go directly between browsers: ${peer} must be a mutual contact and online`}
        >
          <input
            type="file"
            aria-label="Attach file"
            className="sr-only"
            disabled={(!direct && !group) || blocked}
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void client.sendFile(f);
            }}
          />
          <svg viewBox="0 0 24 24" aria-hidden="true">
            <path d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5H9v9a3 3 0 0 0 6 0V5a4.5 4.5 0 0 0-9 0v11.5a6 6 0 0 0 12 0v-10z" />
          </svg>
        </label>
        <label htmlFor={`${id}-msg`} className="sr-only">
          Message
        </label>
        <textarea
          id={`${id}-msg`}
          rows={1}
          placeholder={
            group && !group.amMember ? 'You are no longer in this group' : keyBlocked ? 'Accept the new safety number to send' : blocked ? `You blocked ${peer}` : `Message ${title}`
          }
          value={draft}
          onChange={(e) => {
            setDraft(e.target.value);
            client.typing(e.target.value.length > 0);
          }}
          onBlur={() => client.typing(false)}
          onKeyDown={onKey}
          disabled={blocked}
          maxLength={4000}
        />
        <button type="submit" className="primary" disabled={blocked || !draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
