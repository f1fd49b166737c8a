// Entry point of the web client: one ParleyClient for the page, handed to the React tree.
import './zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ParleyClient } from './messaging/parley-client.ts';
import { App } from './ui/App.tsx';
import './ui/styles.css';

const client = new ParleyClient();

// The service worker caches the app shell only (see public/sw.js); registration failing (an
// untrusted certificate, private browsing) changes nothing else.
if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => undefined);
}
void client.restore();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
