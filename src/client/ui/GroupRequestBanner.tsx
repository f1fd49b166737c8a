// Added to a group by someone who is not a contact: a message request, as for a one-to-one
// conversation. Until accepted no read receipt goes to its members.
import type { GroupInfo, ParleyClient } from '../messaging/parley-client.ts';

export function GroupRequestBanner({ client, group }: { client: ParleyClient; group: GroupInfo }) {
  if (!group.amMember) {
    return (
      <section className="relation-banner" aria-label="Not a member">
        <p>You are no longer in this group. Nothing is sent to you from it any more.</p>
      </section>
    );
  }
  if (!group.request) return null;
  const by = group.request.by;
  return (
    <section className="relation-banner" aria-label="Message request">
      <p>
        <strong>{by}</strong>, who is not in your contacts, added you to this group. Accept to take part, or leave it and
        block {by}.
      </p>
      <div className="row">
        <button type="button" className="primary" onClick={() => void client.acceptGroup()}>
          Accept
        </button>
        <button type="button" className="danger" onClick={() => void client.leaveGroupAndBlock()}>
          Leave and block
        </button>
      </div>
    </section>
  );
}
