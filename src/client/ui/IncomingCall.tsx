import type { CallView, ParleyClient } from '../messaging/parley-client.ts';

export function IncomingCall({ client, call }: { client: ParleyClient; call: CallView }) {
  return (
    <section className="incoming" role="alertdialog" aria-label="Incoming call" aria-describedby="incoming-text">
      <div className="avatar" aria-hidden="true">
        {call.peer.slice(0, 1).toUpperCase()}
      </div>
      <p id="incoming-text">
        <strong>{call.peer}</strong> wants to chat with you.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={() => void client.accept()} autoFocus>
          Accept
        </button>
        <button type="button" onClick={() => client.decline()}>
          Decline
        </button>
      </div>
    </section>
  );
}
