import { useEffect } from 'react';
import type { ParleyClient } from '../messaging/parley-client.ts';
import { useParley } from './use-parley.ts';
import { AuthScreen } from './AuthScreen.tsx';
import { MainScreen } from './MainScreen.tsx';
import { Brand } from './Brand.tsx';
import { DeviceSetup } from './DeviceSetup.tsx';
import { AboutParley, CodeTrust } from './CodeTrust.tsx';
import type { CodePin } from '../messaging/code-pin.ts';

export function App({ client, code }: { client: ParleyClient; code: CodePin }) {
  const state = useParley(client);
  const unread = state.conversations.reduce((n, c) => n + c.unread, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Parley` : 'Parley';
  }, [unread]);
  const screen = state.booting ? (
    <div className="splash" role="status">
      <Brand />
      <p>Opening Parley…</p>
    </div>
  ) : state.setup ? (
    <DeviceSetup client={client} state={state} />
  ) : state.user ? (
    <MainScreen client={client} state={state} code={code} />
  ) : (
    <AuthScreen client={client} state={state} />
  );
  return (
    <>
      <CodeTrust code={code} />
      {screen}
      {!state.user && (
        <footer className="app-footer">
          <AboutParley code={code} />
        </footer>
      )}
    </>
  );
}
