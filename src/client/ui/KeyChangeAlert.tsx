// Shown when a contact's identity key is not the pinned one: nothing can be sent until the
// user accepts the new safety number.
import type { ContactSecurity } from '../messaging/parley-client.ts';

export function KeyChangeAlert({ peer, security, onAccept }: { peer: string; security: ContactSecurity; onAccept: () => void }) {
  return (
    <div className={`key-change ${security.wasVerified ? 'key-change-loud' : ''}`} role="alert">
      <p>
        <strong>Your safety number with {peer} has changed.</strong>{' '}
        {security.wasVerified ? `You had verified ${peer}; that verification no longer holds. ` : ''}
        This happens when {peer} reinstalls Parley or logs in on a new browser, but it could also mean someone is trying
        to intercept your messages. Compare the new safety number with {peer} if you can; sending is paused until you
        accept it.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={onAccept}>
          Accept new safety number
        </button>
      </div>
    </div>
  );
}
