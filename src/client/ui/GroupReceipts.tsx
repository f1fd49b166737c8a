// Under an own message in a group: how many members' browsers confirmed it and how many people
// read it, with their names on hover or focus.
import type { MessageState } from '../messaging/parley-client.ts';

export function GroupReceipts({ receipts, state }: { receipts: { to: readonly string[]; delivered: readonly string[]; read: readonly string[] }; state?: MessageState }) {
  const of = receipts.to.length;
  if (receipts.delivered.length === 0) return <span className={`delivery delivery-${state ?? 'sending'}`}>{state === 'sending' || !state ? 'Sending…' : state === 'failed' ? 'Not sent' : 'Sent'}</span>;
  return (
    <>
      <span className="delivery delivery-delivered" tabIndex={0} title={[...receipts.delivered].sort().join(', ')}>
        Delivered to {receipts.delivered.length} of {of}
      </span>
      {receipts.read.length > 0 && (
        <span className="delivery delivery-read" tabIndex={0} title={[...receipts.read].sort().join(', ')}>
          Read by {receipts.read.length} of {of}
        </span>
      )}
    </>
  );
}
