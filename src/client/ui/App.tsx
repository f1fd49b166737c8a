import { useEffect } from 'react';
import type { ParleyClient } from '../messaging/parley-client.ts';
import { useParley } from './use-parley.ts';
import { AuthScreen } from './AuthScreen.tsx';
import { MainScreen } from './MainScreen.tsx';
import { Brand } from './Brand.tsx';
import { DeviceSetup } from './DeviceSetup.tsx';

export function App({ client }: { client: ParleyClient }) {
  const state = useParley(client);
  const unread = state.conversations.reduce((n, c) => n + c.unread, 0);
  useEffect(() => {
    document.title = unread > 0 ? `(${unread}) Parley` : 'Parley';
  }, [unread]);
  if (state.booting) {
    return (
      <div className="splash" role="status">
        <Brand />
        <p>Opening Parley…</p>
      </div>
    );
  }
  if (state.setup) return <DeviceSetup client={client} state={state} />;
  return state.user ? <MainScreen client={client} state={state} /> : <AuthScreen client={client} state={state} />;
}
