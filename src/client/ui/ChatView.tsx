// The conversation: a live log of messages and a composer (Enter sends, Shift+Enter breaks the
// line), the security state of the contact (safety number, verified, key change), and the
// call's own state. The log keeps the newest message in view unless the reader scrolled up.
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { CallView, ParleyClient } from '../messaging/parley-client.ts';
import { KeyChangeAlert } from './KeyChangeAlert.tsx';
import { SafetyNumberPanel } from './SafetyNumberPanel.tsx';

function statusText(call: CallView): string {
  switch (call.phase) {
    case 'calling':
      return 'Calling…';
    case 'incoming':
      return 'Incoming call';
    case 'connecting':
      return 'Connecting directly…';
    case 'chat':
      return call.binding === 'verified' ? 'End-to-end encrypted · direct' : 'End-to-end encrypted · checking the connection…';
    case 'ended':
      return 'Chat ended';
  }
}

function time(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function ChatView({ client, call }: { client: ParleyClient; call: CallView }) {
  const id = useId();
  const [draft, setDraft] = useState('');
  const [showSafety, setShowSafety] = useState(false);
  const logRef = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const security = call.security;
  const blocked = Boolean(security?.keyChanged);
  const live = call.phase === 'chat' && !blocked;

  useEffect(() => {
    const log = logRef.current;
    if (log && stick.current) log.scrollTop = log.scrollHeight;
  }, [call.messages.length]);

  const send = async (e?: FormEvent) => {
    e?.preventDefault();
    if (!draft.trim()) return;
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

  return (
    <section className="chat" aria-label={`Chat with ${call.peer}`}>
      <header className="chat-header">
        <div className="avatar" aria-hidden="true">
          {call.peer.slice(0, 1).toUpperCase()}
        </div>
        <div className="chat-title">
          <h2>
            {call.peer}
            {security?.verified && (
              <span className="verified" title="You verified this safety number">
                Verified
              </span>
            )}
          </h2>
          <p className={`chat-status chat-status-${call.phase}`} role="status">
            {call.phase === 'chat' && (
              <svg className="lock" aria-hidden="true" viewBox="0 0 16 16">
                <path d="M4 7V5a4 4 0 1 1 8 0v2h.5A1.5 1.5 0 0 1 14 8.5v5a1.5 1.5 0 0 1-1.5 1.5h-9A1.5 1.5 0 0 1 2 13.5v-5A1.5 1.5 0 0 1 3.5 7H4zm2 0h4V5a2 2 0 1 0-4 0v2z" />
              </svg>
            )}
            {statusText(call)}
          </p>
        </div>
        <button type="button" aria-expanded={showSafety} onClick={() => setShowSafety((v) => !v)} disabled={!security}>
          Safety number
        </button>
        {call.phase === 'ended' ? (
          <button type="button" onClick={() => client.closeCall()}>
            Close
          </button>
        ) : (
          <button type="button" className="danger" onClick={() => client.hangup()}>
            {call.phase === 'calling' ? 'Cancel' : 'Hang up'}
          </button>
        )}
      </header>
      {security && blocked && <KeyChangeAlert peer={call.peer} security={security} onAccept={() => void client.acceptNewSafetyNumber()} />}
      {security && showSafety && (
        <SafetyNumberPanel peer={call.peer} security={security} onVerify={(v) => void client.setVerified(v)} onClose={() => setShowSafety(false)} />
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
        {call.messages.length === 0 && live && <p className="empty">Say hello. Only {call.peer} can read what you write here.</p>}
        {call.messages.map((m) =>
          m.from === 'system' ? (
            <p key={m.id} className="system-note">
              {m.text}
            </p>
          ) : (
            <div key={m.id} className={`bubble bubble-${m.from}`}>
              <span className="sr-only">{m.from === 'me' ? 'You' : call.peer}: </span>
              <span className="bubble-text">{m.text}</span>
              <time className="bubble-time" dateTime={new Date(m.at).toISOString()}>
                {time(m.at)}
              </time>
            </div>
          ),
        )}
        {call.ended && (
          <p className="ended" role="status">
            {call.ended.text}
          </p>
        )}
      </div>
      <form className="composer" onSubmit={(e) => void send(e)}>
        <label htmlFor={`${id}-msg`} className="sr-only">
          Message
        </label>
        <textarea
          id={`${id}-msg`}
          rows={1}
          placeholder={blocked ? 'Accept the new safety number to send' : live ? `Message ${call.peer}` : 'The chat opens when you are connected'}
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          onKeyDown={onKey}
          disabled={!live}
          maxLength={4000}
        />
        <button type="submit" className="primary" disabled={!live || !draft.trim()}>
          Send
        </button>
      </form>
    </section>
  );
}
