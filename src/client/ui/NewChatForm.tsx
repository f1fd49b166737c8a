// "New chat": opens the conversation with someone by username. Nothing rings: text goes
// straight away, through the server until a direct channel is up.
import { useId, useState, type FormEvent } from 'react';
import type { ParleyClient } from '../messaging/parley-client.ts';

export function NewChatForm({ client }: { client: ParleyClient }) {
  const id = useId();
  const [peer, setPeer] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void client.startChat(peer).then((ok) => ok && setPeer(''));
  };
  return (
    <form aria-label="New chat" className="call-form" onSubmit={submit} noValidate>
      <label htmlFor={`${id}-peer`}>Username</label>
      <div className="row">
        <input
          id={`${id}-peer`}
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          placeholder="who do you want to write to?"
          value={peer}
          onChange={(e) => setPeer(e.target.value)}
        />
        <button type="submit" className="primary">
          Start chat
        </button>
      </div>
    </form>
  );
}
