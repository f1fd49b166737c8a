// The end of a dialog's form: the error the last attempt ran into (as an alert, so a screen
// reader says it), the submit button and Cancel.
import type { ReactNode } from 'react';
import type { ParleyState } from '../messaging/parley-client.ts';

export function DialogFooter({ state, submit, onCancel }: { state: ParleyState; submit: ReactNode; onCancel: () => void }) {
  return (
    <>
      {state.notice?.kind === 'error' && (
        <p className="notice notice-error" role="alert">
          {state.notice.text}
        </p>
      )}
      <div className="row dialog-actions">
        <button type="submit" className="primary" disabled={state.busy}>
          {submit}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}
