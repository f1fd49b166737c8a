// Logging out asks what to do with this browser's copy: keep history and keys (log in again and
// everything is there), or wipe them (a shared or borrowed computer).
import { useEffect, useRef } from 'react';
import type { ParleyClient } from '../messaging/parley-client.ts';

export function LogoutDialog({ client, onClose }: { client: ParleyClient; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="logout-title" onCancel={onClose} onClose={onClose}>
      <h2 id="logout-title">Log out of Parley?</h2>
      <p>
        Keep your conversations and keys on this browser to pick up where you left off, or wipe them if others use this
        computer. Wiping means your contacts will see a new safety number when you log in again.
      </p>
      <div className="row dialog-actions">
        <button type="button" className="primary" onClick={() => void client.logout({ wipe: false })}>
          Keep history on this browser
        </button>
        <button type="button" className="danger" onClick={() => void client.logout({ wipe: true })}>
          Wipe this browser
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
