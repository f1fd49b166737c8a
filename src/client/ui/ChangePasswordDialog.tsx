// Changing the password ends every other session of the account (the server revokes them).
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';
import { DialogFooter } from './DialogFooter.tsx';

export function ChangePasswordDialog({ client, state, onClose }: { client: ParleyClient; state: ParleyState; onClose: () => void }) {
  const id = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await client.changePassword(current, next)) onClose();
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={`${id}-title`} onCancel={onClose} onClose={onClose}>
      <h2 id={`${id}-title`}>Change password</h2>
      <form aria-label="Change password" className="card-form" onSubmit={(e) => void submit(e)}>
        <label htmlFor={`${id}-current`}>Current password</label>
        <input id={`${id}-current`} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} required />
        <label htmlFor={`${id}-new`}>New password</label>
        <input id={`${id}-new`} type="password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} required />
        <p className="hint">Every other browser where you are logged in will be logged out.</p>
        <DialogFooter state={state} submit="Change password" onCancel={onClose} />
      </form>
    </dialog>
  );
}
