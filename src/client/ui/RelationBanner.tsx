// Someone who is not a contact wrote first (a message request), or the user blocked them.
import type { ActiveConversation, ParleyClient } from '../messaging/parley-client.ts';

export function RelationBanner({ client, conversation }: { client: ParleyClient; conversation: ActiveConversation }) {
  const { peer, relation } = conversation;
  if (relation === 'request') {
    return (
      <section className="relation-banner" aria-label="Message request">
        <p>
          <strong>{peer}</strong> is not in your contacts. Add them to see when they are online, or block them so they can
          no longer reach you.
        </p>
        <div className="row">
          <button type="button" className="primary" onClick={() => void client.addContact(peer)}>
            Add to contacts
          </button>
          <button type="button" className="danger" onClick={() => void client.blockContact(peer)}>
            Block
          </button>
        </div>
      </section>
    );
  }
  if (relation === 'blocked') {
    return (
      <section className="relation-banner" aria-label="Blocked">
        <p>You blocked {peer}. They cannot call you or send you messages.</p>
        <button type="button" onClick={() => void client.unblockContact(peer)}>
          Unblock
        </button>
      </section>
    );
  }
  return null;
}
