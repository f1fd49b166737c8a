// This account's browsers (issue #17): "Link a new browser" with its link code and confirmation,
// and the list of linked browsers, each with when it was linked, last seen, and "Unlink <name>".
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';
import { DialogFooter } from './DialogFooter.tsx';

const when = (at: number) => new Date(at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function LinkedBrowsers({ client, state }: { client: ParleyClient; state: ParleyState }) {
  const [linking, setLinking] = useState(false);
  const [resetting, setResetting] = useState(false);
  const nameOf = (d: { id: string; name: string }) => d.name || (d.id === '1' ? 'First browser' : 'Browser');
  return (
    <section className="devices" aria-labelledby="devices-title">
      <h2 id="devices-title" className="sidebar-heading">
        Browsers
      </h2>
      <ul aria-label="Linked browsers" className="device-list">
        {state.devices.map((d) => (
          <li key={d.id}>
            <span className="device-name">
              {nameOf(d)}
              {d.id === state.thisDevice ? ' (this browser)' : ''}
            </span>
            <span className="hint">
              Linked {when(d.createdAt)} · last seen {when(d.lastSeenAt)}
            </span>
            {d.id !== state.thisDevice && (
              <button type="button" className="link-button" onClick={() => void client.unlinkBrowser(d.id)} disabled={state.busy}>
                Unlink {nameOf(d)}
              </button>
            )}
          </li>
        ))}
      </ul>
      <div className="row link-row">
        <button type="button" className="link-button" onClick={() => setLinking(true)}>
          Link a new browser
        </button>
        <button type="button" className="link-button" onClick={() => setResetting(true)}>
          Reset identity
        </button>
      </div>
      {resetting && <ResetDialog client={client} state={state} onClose={() => setResetting(false)} />}
      {linking && (
        <LinkDialog
          client={client}
          state={state}
          onClose={() => {
            client.cancelLinkOffer();
            setLinking(false);
          }}
        />
      )}
    </section>
  );
}

/** "Reset identity": said plainly, since every contact will see a new safety number. */
function ResetDialog({ client, state, onClose }: { client: ParleyClient; state: ParleyState; onClose: () => void }) {
  const id = useId();
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (await client.resetIdentity()) onClose();
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={`${id}-title`} onCancel={onClose} onClose={onClose}>
      <h2 id={`${id}-title`}>Reset identity</h2>
      <form aria-label="Reset identity" className="card-form" onSubmit={(e) => void submit(e)}>
        <p>
          For a lost browser that may be in someone else's hands: your account gets new keys, this becomes its only browser,
          and every other browser is unlinked and wiped the next time it connects.
        </p>
        <p>Every contact will see a new safety number and should compare it with you again. Your history here stays.</p>
        <DialogFooter state={state} submit="Reset identity" onCancel={onClose} />
      </form>
    </dialog>
  );
}

function LinkDialog({ client, state, onClose }: { client: ParleyClient; state: ParleyState; onClose: () => void }) {
  const id = useId();
  const ref = useRef<HTMLDialogElement>(null);
  const [code, setCode] = useState('');
  const [name, setName] = useState('');
  const [history, setHistory] = useState(true);
  const offer = state.linkOffer;
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  useEffect(() => {
    if (offer) setName(offer.name);
  }, [offer]);
  const read = (e: FormEvent) => {
    e.preventDefault();
    void client.readLinkCode(code);
  };
  const confirm = async (e: FormEvent) => {
    e.preventDefault();
    if (await client.confirmLink(name, history)) onClose();
  };
  return (
    <dialog ref={ref} className="dialog" aria-labelledby={`${id}-title`} onCancel={onClose} onClose={onClose}>
      <h2 id={`${id}-title`}>Link a new browser</h2>
      {!offer ? (
        <form aria-label="Link a new browser" className="card-form" onSubmit={read}>
          <p className="hint">In the new browser, log in and choose "Link to another browser". Then type or paste the code it shows.</p>
          <label htmlFor={`${id}-code`}>Link code</label>
          <input id={`${id}-code`} autoComplete="off" spellCheck={false} value={code} onChange={(e) => setCode(e.target.value)} required />
          <DialogFooter state={state} submit="Link" onCancel={onClose} />
        </form>
      ) : (
        <form aria-label="Confirm the new browser" className="card-form" onSubmit={(e) => void confirm(e)}>
          <p>This browser will be able to read and send your messages. Link it only if it is yours.</p>
          <label htmlFor={`${id}-name`}>Browser name</label>
          <input id={`${id}-name`} value={name} maxLength={64} onChange={(e) => setName(e.target.value)} required />
          <label className="setting">
            <input type="checkbox" checked={history} onChange={(e) => setHistory(e.target.checked)} />
            Copy the last 30 days of messages
          </label>
          <DialogFooter state={state} submit={`Link ${name || offer.name}`} onCancel={onClose} />
        </form>
      )}
    </dialog>
  );
}
