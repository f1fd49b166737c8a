// Under an own message in a group: how many members' browsers confirmed it and how many people
// read it. The names show on hover and on keyboard focus (a tooltip of their own, since a title
// attribute shows on hover only), and are read out after the count.
import type { MessageState } from '../messaging/parley-client.ts';

function Count({ kind, label, names }: { kind: 'delivered' | 'read'; label: string; names: readonly string[] }) {
  const list = [...names].sort().join(', ');
  return (
    <span className={`delivery delivery-${kind} delivery-names`} tabIndex={0} title={list} data-names={list}>
      {label}
      <span className="sr-only">: {list}</span>
    </span>
  );
}

export function GroupReceipts({ receipts, state }: { receipts: { to: readonly string[]; delivered: readonly string[]; read: readonly string[] }; state?: MessageState }) {
  const of = receipts.to.length;
  if (receipts.delivered.length === 0) return <span className={`delivery delivery-${state ?? 'sending'}`}>{state === 'sending' || !state ? 'Sending…' : state === 'failed' ? 'Not sent' : 'Sent'}</span>;
  return (
    <>
      <Count kind="delivered" label={`Delivered to ${receipts.delivered.length} of ${of}`} names={receipts.delivered} />
      {receipts.read.length > 0 && <Count kind="read" label={`Read by ${receipts.read.length} of ${of}`} names={receipts.read} />}
    </>
  );
}
