// "Start call": opens the conversation with someone and rings them; if they are offline the
// conversation opens anyway and messages wait for them on the server.
import { useId, useState, type FormEvent } from 'react';
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';

export function CallForm({ client, state }: { client: ParleyClient; state: ParleyState }) {
  const id = useId();
  const [peer, setPeer] = useState('');
  const call = state.active?.call;
  const inCall = Boolean(call && call.phase !== 'ended');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void client.startCall(peer).then(() => setPeer(''));
  };
  return (
    <form aria-label="Call" className="call-form" onSubmit={submit} noValidate>
      <label htmlFor={`${id}-peer`}>Peer username</label>
      <div className="row">
        <input
          id={`${id}-peer`}
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          placeholder="who do you want to talk to?"
          value={peer}
          onChange={(e) => setPeer(e.target.value)}
        />
        <button type="submit" className="primary" disabled={inCall}>
          Start call
        </button>
      </div>
    </form>
  );
}
