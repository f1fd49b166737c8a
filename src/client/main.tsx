// Entry point of the web client: one ParleyClient for the page, handed to the React tree.
import './zod-config.ts';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ParleyClient } from './messaging/parley-client.ts';
import { App } from './ui/App.tsx';
import { CodePin } from './messaging/code-pin.ts';
import './ui/styles.css';

const client = new ParleyClient();
// The service worker (public/sw.js) makes the app work offline and pins its code.
const code = new CodePin();
code.start();
void client.restore();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={client} code={code} />
  </StrictMode>,
);
