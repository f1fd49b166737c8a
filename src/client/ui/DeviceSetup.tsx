// Signed in on a browser that holds no keys for the account (issue #17): link it to a browser
// that does, keeping the safety number contacts know, or start with new keys, which they will
// see as a new safety number. While linking, the link code shows as text and as a QR code.
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';
import { Brand } from './Brand.tsx';
import { NoticeBanner } from './NoticeBanner.tsx';
import { QrCode } from './QrCode.tsx';

export function DeviceSetup({ client, state }: { client: ParleyClient; state: ParleyState }) {
  const setup = state.setup!;
  return (
    <main className="auth-screen">
      <div className="auth-card">
        <Brand />
        <NoticeBanner notice={state.notice} onDismiss={() => client.dismissNotice()} />
        {setup.kind === 'choose' ? (
          <section aria-labelledby="setup-title" className="card-form">
            <h2 id="setup-title">This browser has no keys for {setup.username}</h2>
            <p>
              Link it to a browser where you already use Parley: your contacts keep seeing the same safety number, and your
              conversations come along.
            </p>
            <button type="button" className="primary" disabled={state.busy} onClick={() => void client.linkToAnotherBrowser()}>
              Link to another browser
            </button>
            <p className="hint">
              Or start over with new keys, if you have no other browser left. Your contacts will see a new safety number and
              should compare it with you again; any other browser linked to this account stops working.
            </p>
            <button type="button" disabled={state.busy} onClick={() => void client.startWithNewKeys()}>
              Start with new keys
            </button>
            <button type="button" className="link-button" onClick={() => void client.logout()}>
              Log out
            </button>
          </section>
        ) : (
          <section aria-labelledby="linking-title" className="card-form">
            <h2 id="linking-title">Link this browser</h2>
            <p>
              In a browser where you use Parley as {setup.username}, choose "Link a new browser" and scan this code, or type
              the text under it. It works once, for ten minutes.
            </p>
            <QrCode text={setup.code} label="Link code as a QR code" />
            <p className="link-code">
              <output aria-label="Link code">{setup.code}</output>
            </p>
            <p role="status" className="hint">
              Waiting for your other browser…
            </p>
            <button type="button" onClick={() => client.cancelLinking()}>
              Cancel
            </button>
          </section>
        )}
      </div>
    </main>
  );
}
