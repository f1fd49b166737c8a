// Parley's service worker: makes the app installable and work offline, and pins its code
// (issue #20). The server that relays ciphertext also serves the code that holds the keys; once
// this browser has Parley's code, it keeps running that code, checked file by file against the
// release manifest it came with, until the person here accepts another version. It never
// caches the API, the WebSocket, or anything with message data, which lives in IndexedDB.
//
// State, kept in the Cache API so that every version of this script reads the same pin:
//   parley-pin            /pinned  { hash }  the release this browser runs (the code hash)
//                         /offered { hash }  a newer release, downloaded and checked, not yet accepted
//                         /refused { file, hash }  the last release refused, and the file that did not match
//   parley-code-<hash>    that release's manifest.json and files (source maps only when asked for)
// The code hash is the SHA-384 of manifest.json's bytes; each file's SHA-384 is in the manifest.
'use strict';

const PIN = 'parley-pin';
const code = (hash) => `parley-code-${hash}`;
/** Looking for a new release at most this often (and on every page load past it). */
const CHECK_EVERY_MS = 60_000;

const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const base64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)));
const integrityOf = async (body) => `sha384-${base64(await crypto.subtle.digest('SHA-384', body))}`;

/** A response's headers to keep with its body, which is stored decoded and whole. */
function kept(headers) {
  const out = new Headers(headers);
  out.delete('content-encoding');
  out.delete('content-length');
  return out;
}

async function state(key) {
  const hit = await (await caches.open(PIN)).match(key);
  return hit ? hit.json() : null;
}

async function setState(key, value) {
  const pin = await caches.open(PIN);
  if (value === null) await pin.delete(key);
  else await pin.put(key, new Response(JSON.stringify(value), { headers: { 'content-type': 'application/json' } }));
}

async function tell(message) {
  for (const client of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) client.postMessage(message);
}

/** The server's release now: its manifest's bytes, hash and contents. */
async function serverRelease() {
  const response = await fetch('/manifest.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`manifest.json: ${response.status}`);
  const bytes = await response.arrayBuffer();
  const manifest = JSON.parse(new TextDecoder().decode(bytes));
  if (!manifest || manifest.version !== 1 || typeof manifest.files !== 'object') throw new Error('manifest.json: not a release manifest');
  return { hash: hex(await crypto.subtle.digest('SHA-384', bytes)), bytes, manifest, headers: response.headers };
}

/**
 * Downloads every file of `release` (source maps aside) into its own cache, each checked
 * against the manifest. Returns the first file that does not match, or undefined when all do.
 * A release with a mismatch is dropped whole.
 */
async function download(release) {
  const cache = await caches.open(code(release.hash));
  for (const [path, integrity] of Object.entries(release.manifest.files)) {
    if (path.endsWith('.map') || (await cache.match(path))) continue;
    const response = await fetch(path, { cache: 'no-store' });
    const body = await response.arrayBuffer();
    if (!response.ok || (await integrityOf(body)) !== integrity) {
      await caches.delete(code(release.hash));
      return path;
    }
    // The server's headers go with the file: the page's Content-Security-Policy among them.
    await cache.put(path, new Response(body, { status: 200, headers: kept(response.headers) }));
  }
  await cache.put('/manifest.json', new Response(release.bytes, { status: 200, headers: kept(release.headers) }));
  return undefined;
}

async function refuse(file, hash) {
  await setState('/refused', { file, hash });
  await tell({ type: 'refused', file });
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      // The first code this browser runs is trusted as it comes (a first visit cannot be
      // checked against anything but itself); a browser already pinned keeps its pin through
      // a new version of this script, and is offered the new release like any other.
      if (!(await state('/pinned'))) {
        const release = await serverRelease();
        const refused = await download(release);
        if (refused) {
          await refuse(refused, release.hash);
          throw new Error(`refused ${refused}`);
        }
        await setState('/pinned', { hash: release.hash });
      }
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([PIN]);
      for (const key of ['/pinned', '/offered']) {
        const s = await state(key);
        if (s) keep.add(code(s.hash));
      }
      for (const key of await caches.keys()) if (!keep.has(key)) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

let lastCheck = 0;
let checking = null;

/** Looks for a release other than the pinned one; offers it once downloaded and checked. */
function check(force) {
  if (checking || (!force && Date.now() - lastCheck < CHECK_EVERY_MS)) return checking ?? Promise.resolve();
  lastCheck = Date.now();
  checking = (async () => {
    const pinned = await state('/pinned');
    if (!pinned) return;
    let release;
    try {
      release = await serverRelease();
    } catch {
      return; // offline, or the server is down: keep running what is here
    }
    if (release.hash === pinned.hash) {
      await setState('/offered', null);
      return;
    }
    const offered = await state('/offered');
    if (offered?.hash !== release.hash) {
      const refused = await download(release);
      if (refused) return refuse(refused, release.hash);
      await setState('/offered', { hash: release.hash });
    }
    await tell({ type: 'offered', hash: release.hash });
  })().finally(() => {
    checking = null;
  });
  return checking;
}

async function status() {
  const [pinned, offered, refused] = await Promise.all([state('/pinned'), state('/offered'), state('/refused')]);
  return { type: 'status', pinned: pinned?.hash ?? null, offered: offered?.hash ?? null, refused: refused?.file ?? null };
}

/** The person accepted the offered release: it becomes the pinned one, and pages reload. */
async function update() {
  const offered = await state('/offered');
  const pinned = await state('/pinned');
  if (!offered) return;
  await setState('/pinned', offered);
  await setState('/offered', null);
  await setState('/refused', null);
  if (pinned && pinned.hash !== offered.hash) await caches.delete(code(pinned.hash));
  await tell({ type: 'updated', hash: offered.hash });
}

self.addEventListener('message', (event) => {
  const type = event.data && event.data.type;
  const reply = (m) => event.source && event.source.postMessage(m);
  if (type === 'status') event.waitUntil(status().then(reply));
  else if (type === 'check') event.waitUntil(check(true).then(status).then(reply));
  else if (type === 'update') event.waitUntil(update());
});

/** Paths the service worker never answers for: live data, and the manifest it checks itself. */
const PASS = (pathname) => pathname.startsWith('/api/') || pathname === '/ws' || pathname.startsWith('/healthz') || pathname === '/metrics' || pathname === '/manifest.json';

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin || PASS(url.pathname)) return;
  event.respondWith(serve(request, url, event));
});

async function serve(request, url, event) {
  const pinned = await state('/pinned');
  if (!pinned) return fetch(request); // not pinned yet: the first visit, before install completes
  const navigate = request.mode === 'navigate';
  if (navigate) event.waitUntil(check(false));
  const cache = await caches.open(code(pinned.hash));
  const manifestHit = await cache.match('/manifest.json');
  const files = manifestHit ? (await manifestHit.json()).files : {};
  const path = navigate ? '/index.html' : url.pathname;
  const integrity = files[path];
  if (!integrity) return fetch(request); // not part of the app's code (an unknown path)
  const hit = await cache.match(path);
  if (hit) return hit;
  // A file left out of the pinned copy (a source map) or evicted: taken only if it matches.
  const response = await fetch(navigate ? '/index.html' : request);
  const body = await response.clone().arrayBuffer();
  if (response.ok && (await integrityOf(body)) === integrity) {
    await cache.put(path, new Response(body, { status: 200, headers: kept(response.headers) }));
    return response;
  }
  await refuse(path, pinned.hash);
  return new Response('Refused: this file is not the one in the release of Parley this browser runs.', { status: 503, headers: { 'content-type': 'text/plain' } });
}
