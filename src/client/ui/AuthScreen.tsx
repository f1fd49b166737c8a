// Signed out: sign up or log in, on two tabs. Both forms keep the names the end-to-end tests use.
import { useId, useState, type FormEvent } from 'react';
import type { ParleyClient, ParleyState } from '../messaging/parley-client.ts';
import { Brand } from './Brand.tsx';
import { NoticeBanner } from './NoticeBanner.tsx';

type Mode = 'signup' | 'login';

function CredentialsForm({ mode, client, busy }: { mode: Mode; client: ParleyClient; busy: boolean }) {
  const id = useId();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const name = mode === 'signup' ? 'Sign up' : 'Log in';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void (mode === 'signup' ? client.signup(username, password) : client.login(username, password));
  };
  return (
    <form aria-label={name} className="card-form" onSubmit={submit} noValidate>
      <label htmlFor={`${id}-user`}>Username</label>
      <input
        id={`${id}-user`}
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        value={username}
        onChange={(e) => setUsername(e.target.value)}
        aria-describedby={mode === 'signup' ? `${id}-user-hint` : undefined}
        required
      />
      {mode === 'signup' && (
        <p className="hint" id={`${id}-user-hint`}>
          3–32 characters: letters, digits, dot, dash or underscore.
        </p>
      )}
      <label htmlFor={`${id}-pass`}>Password</label>
      <input
        id={`${id}-pass`}
        name="password"
        type="password"
        autoComplete={mode === 'signup' ? 'new-password' : 'current-password'}
        value={password}
        onChange={(e) => setPassword(e.target.value)}
        aria-describedby={mode === 'signup' ? `${id}-pass-hint` : undefined}
        required
      />
      {mode === 'signup' && (
        <p className="hint" id={`${id}-pass-hint`}>
          At least 8 characters. A long passphrase is best.
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? (mode === 'signup' ? 'Creating your keys…' : 'Logging in…') : name}
      </button>
    </form>
  );
}

export function AuthScreen({ client, state }: { client: ParleyClient; state: ParleyState }) {
  const [mode, setMode] = useState<Mode>('signup');
  const tab = (m: Mode, label: string) => (
    <button
      type="button"
      role="tab"
      id={`tab-${m}`}
      aria-selected={mode === m}
      aria-controls={`panel-${m}`}
      className={mode === m ? 'tab tab-active' : 'tab'}
      onClick={() => {
        client.dismissNotice();
        setMode(m);
      }}
    >
      {label}
    </button>
  );
  return (
    <main className="auth-screen">
      <div className="auth-card">
        <Brand />
        <p className="tagline">Private conversations, browser to browser.</p>
        <div role="tablist" aria-label="Account" className="tabs">
          {tab('signup', 'Sign up')}
          {tab('login', 'Log in')}
        </div>
        <NoticeBanner notice={state.notice} onDismiss={() => client.dismissNotice()} />
        <div role="tabpanel" id={`panel-${mode}`} aria-labelledby={`tab-${mode}`}>
          <CredentialsForm key={mode} mode={mode} client={client} busy={state.busy} />
        </div>
        <p className="fineprint">
          Your encryption keys are made in this browser and never leave it. The server relays the connection and never
          sees your messages.
        </p>
      </div>
    </main>
  );
}
