import type { ParleyClient } from '../messaging/parley-client.ts';
import { useParley } from './use-parley.ts';
import { AuthScreen } from './AuthScreen.tsx';
import { MainScreen } from './MainScreen.tsx';
import { Brand } from './Brand.tsx';

export function App({ client }: { client: ParleyClient }) {
  const state = useParley(client);
  if (state.booting) {
    return (
      <div className="splash" role="status">
        <Brand />
        <p>Opening Parley…</p>
      </div>
    );
  }
  return state.user ? <MainScreen client={client} state={state} /> : <AuthScreen client={client} state={state} />;
}
