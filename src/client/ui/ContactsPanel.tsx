// Contacts: add someone by username, see who is online (only contacts who added you too), open
// a chat with one click.
import { useId, useState, type FormEvent } from 'react';
import type { ContactEntry, ParleyClient, ParleyState } from '../messaging/parley-client.ts';

function describe(c: ContactEntry): string {
  if (c.state === 'blocked') return 'blocked';
  if (!c.mutual) return 'has not added you yet';
  return c.online ? 'online' : 'offline';
}

export function ContactsPanel({ client, state }: { client: ParleyClient; state: ParleyState }) {
  const id = useId();
  const [name, setName] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await client.addContact(name)) setName('');
  };
  return (
    <div className="contacts-panel">
      <form aria-label="Add contact" className="call-form" onSubmit={(e) => void submit(e)} noValidate>
        <label htmlFor={`${id}-name`}>Contact username</label>
        <div className="row">
          <input id={`${id}-name`} autoCapitalize="none" autoComplete="off" spellCheck={false} value={name} onChange={(e) => setName(e.target.value)} />
          <button type="submit" disabled={state.busy}>
            Add contact
          </button>
        </div>
      </form>
      {state.contacts.length === 0 ? (
        <p className="hint">Add the people you talk to. You see each other online once both of you have added the other.</p>
      ) : (
        <ul className="conversations" role="list" aria-label="Contacts">
          {state.contacts.map((c) => (
            <li key={c.username}>
              <button
                type="button"
                className="conversation"
                aria-label={c.username}
                aria-describedby={`contact-${c.username}`}
                onClick={() => void client.openConversation(c.username)}
              >
                <span className={`avatar presence presence-${c.state === 'blocked' ? 'blocked' : c.online ? 'online' : 'offline'}`} aria-hidden="true">
                  {c.username.slice(0, 1).toUpperCase()}
                </span>
                <span className="conversation-body">
                  <span className="conversation-name">{c.username}</span>
                  <span className="conversation-last" id={`contact-${c.username}`}>
                    {describe(c)}
                  </span>
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
