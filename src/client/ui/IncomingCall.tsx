// A call ringing here, over whatever is on screen: who calls, voice or video, Accept or Decline.
import type { CallView, ParleyClient } from '../messaging/parley-client.ts';

export function IncomingCall({ client, call }: { client: ParleyClient; call: CallView }) {
  const kind = call.media === 'video' ? 'video' : 'voice';
  return (
    <div className="incoming-backdrop">
      <section className="incoming" role="alertdialog" aria-label={`Incoming ${kind} call`} aria-describedby="incoming-text">
        <div className="avatar avatar-ringing" aria-hidden="true">
          {call.peer.slice(0, 1).toUpperCase()}
        </div>
        <p id="incoming-text">
          <strong>{call.peer}</strong> is calling you ({kind} call{call.relayOnly ? ', through a relay so neither of you learns the other\u2019s address' : ''}).
        </p>
        <div className="row">
          <button type="button" className="primary" onClick={() => void client.accept()} autoFocus>
            Accept
          </button>
          <button type="button" className="danger" onClick={() => client.decline()}>
            Decline
          </button>
        </div>
      </section>
    </div>
  );
}
