// What the person should know about the code this page runs (issue #20): a refusal when the
// server offered code that did not match its manifest, the offer of a new version with its code
// hash (nothing new runs until "Update"), and "About Parley" with this version's code hash to
// compare with the one published for the release (`npm run verify`).
import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { shortCodeHash, type CodePin, type Unpinnable } from '../messaging/code-pin.ts';

/** The refusal and the offer, above whatever screen is showing. */
export function CodeTrust({ code }: { code: CodePin }) {
  const s = useSyncExternalStore(code.subscribe, code.getSnapshot);
  return (
    <>
      {s.refused && (
        <div role="alert" className="code-refused">
          Parley refused code from this server that does not match its release manifest ({s.refused}). This browser keeps
          running the version it has{s.codeHash ? ` (code hash ${shortCodeHash(s.codeHash)})` : ''}. Tell the people who run
          this server.
        </div>
      )}
      {s.offered && (
        <section className="code-offer" aria-label="New version">
          <p>A new version of Parley is available (code hash {shortCodeHash(s.offered)}).</p>
          <button type="button" className="primary" onClick={() => code.update()}>
            Update
          </button>
          <button type="button" onClick={() => code.dismiss()}>
            Not now
          </button>
        </section>
      )}
    </>
  );
}

/** The "About Parley" button and its dialog. */
export function AboutParley({ code }: { code: CodePin }) {
  const s = useSyncExternalStore(code.subscribe, code.getSnapshot);
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="about-link" onClick={() => setOpen(true)}>
        About Parley
      </button>
      {open && <AboutDialog codeHash={s.codeHash} pinned={s.pinned} unpinnable={s.unpinnable} onClose={() => setOpen(false)} />}
    </>
  );
}

const NOT_PINNED: Record<Unpinnable | 'pending', string> = {
  certificate:
    "This browser refused to pin this version: it does not trust this server's certificate. Pinning needs a certificate the browser trusts.",
  blocked:
    "This browser refused to pin this version: it may not trust this server's certificate, a privacy setting (blocked cookies, private browsing) may forbid it, or the server did not serve Parley's service worker.",
  insecure: 'This version cannot be pinned: the page is not served over HTTPS.',
  unsupported: 'This browser cannot pin this version: it has no service workers.',
  pending: 'This browser has not pinned this version yet (its service worker is not running).',
};

function AboutDialog({ codeHash, pinned, unpinnable, onClose }: { codeHash?: string; pinned: boolean; unpinnable?: Unpinnable; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} className="dialog" aria-labelledby="about-title" onCancel={onClose} onClose={onClose}>
      <h2 id="about-title">About Parley</h2>
      <p>Private conversations, browser to browser, end-to-end encrypted.</p>
      <dl className="about-facts">
        <dt>Code hash</dt>
        <dd aria-label="Code hash">{codeHash ? shortCodeHash(codeHash) : 'not known yet'}</dd>
      </dl>
      <p>
        {pinned
          ? 'This browser keeps running this version until you accept another: a new version is offered with its code hash, and code that does not match its release manifest is refused.'
          : NOT_PINNED[unpinnable ?? 'pending']}{' '}
        Compare the code hash with the one published for this release; anyone can check a server with{' '}
        <code>npm run verify</code>.
      </p>
      {codeHash && <p className="code-hash-full">Full code hash (SHA-384 of manifest.json): {codeHash}</p>}
      <div className="row dialog-actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </dialog>
  );
}
