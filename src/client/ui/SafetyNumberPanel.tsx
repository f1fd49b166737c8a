// The safety number with a contact: 60 digits in twelve groups and the same as a QR code, and
// the "verified" mark for people who compared them in person or over another channel. Only the
// digits carry the label "Safety number", so its text is exactly the number.
import { useId } from 'react';
import type { ContactSecurity } from '../messaging/parley-client.ts';
import { QrCode } from './QrCode.tsx';

export function SafetyNumberPanel({ peer, security, onVerify, onClose }: { peer: string; security: ContactSecurity; onVerify: (v: boolean) => void; onClose: () => void }) {
  const id = useId();
  const digits = security.safetyNumber;
  const groups = digits?.match(/\d{5}/g) ?? [];
  return (
    <section className="safety" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>Compare with {peer}</h3>
      {digits ? (
        <>
          <p className="safety-digits" role="group" aria-label="Safety number">
            {groups.map((g, i) => (
              <span key={i}>{g} </span>
            ))}
          </p>
          <QrCode text={digits} label="QR code to scan and compare" />
          {security.devices !== null && (
            <p className="hint">
              {peer} uses Parley in {security.devices === 1 ? 'one browser' : `${security.devices} browsers`}, all under this safety number.
            </p>
          )}
          <p className="hint">
            Compare these numbers with {peer}, in person or on a call you trust. If they match on both screens, nobody is
            in the middle of your conversation.
          </p>
        </>
      ) : (
        <p className="hint">No keys for {peer} yet.</p>
      )}
      <div className="row">
        {security.verified ? (
          <button type="button" onClick={() => onVerify(false)}>
            Clear verification
          </button>
        ) : (
          <button type="button" className="primary" disabled={!digits || security.keyChanged} onClick={() => onVerify(true)}>
            Mark as verified
          </button>
        )}
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </section>
  );
}
