// Seals a built web client (dist/client) as a release a browser and a person can check
// (issue #20): every script and style in index.html gets Subresource Integrity, a small guard
// script says so when the browser refuses one, and manifest.json lists every file with its
// SHA-384. The SHA-384 of manifest.json's bytes is "the code hash": the service worker pins
// it, the About panel shows it, and `npm run verify` compares a running server's with a local
// build. Everything here is a pure function of the built files, so two builds of one commit
// give the same bytes and the same code hash.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const MANIFEST = 'manifest.json';
const GUARD = '/guard.js';

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;

/** Every file under `dir`, as "/relative/path" with forward slashes, sorted. */
export function releaseFiles(dir, base = dir) {
  const out = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...releaseFiles(full, base));
    else out.push('/' + path.relative(base, full).split(path.sep).join('/'));
  }
  return out.filter((f) => f !== `/${MANIFEST}`).sort();
}

/** The short, readable form of a code hash (hex): the first 96 bits in groups of four. */
export function shortCodeHash(hex) {
  return hex.slice(0, 24).match(/.{4}/g).join(' ');
}

/** Adds integrity to index.html's scripts and styles (and the guard before them). */
function withIntegrity(html, dir) {
  const integrityOf = (url) => sri(readFileSync(path.join(dir, url)));
  let out = html
    .replace(/<script type="module" crossorigin src="(\/[^"]+)"><\/script>/g, (_, src) => `<script type="module" crossorigin src="${src}" integrity="${integrityOf(src)}"></script>`)
    .replace(/<link rel="(stylesheet|modulepreload)" crossorigin href="(\/[^"]+)">/g, (_, rel, href) => `<link rel="${rel}" crossorigin href="${href}" integrity="${integrityOf(href)}">`);
  // First in <head>, before anything it watches, as a classic script so it runs at once.
  out = out.replace('<head>', `<head>\n    <script src="${GUARD}" integrity="${integrityOf(GUARD)}"></script>`);
  const unchecked = [...out.matchAll(/<(script|link)\b[^>]*>/g)].filter((m) => /\b(src|href)="\/[^"]+\.(js|css)"/.test(m[0]) && !m[0].includes('integrity='));
  if (unchecked.length) throw new Error(`index.html loads code without integrity: ${unchecked.map((m) => m[0]).join(', ')}`);
  return out;
}

/** Seals `dir` in place; returns the code hash (hex) and the manifest. */
export function sealRelease(dir) {
  const indexPath = path.join(dir, 'index.html');
  writeFileSync(indexPath, withIntegrity(readFileSync(indexPath, 'utf8'), dir));
  const files = {};
  for (const f of releaseFiles(dir)) files[f] = sri(readFileSync(path.join(dir, f)));
  const manifest = `${JSON.stringify({ version: 1, files }, null, 2)}\n`;
  writeFileSync(path.join(dir, MANIFEST), manifest);
  return { codeHash: createHash('sha384').update(manifest).digest('hex'), files };
}
