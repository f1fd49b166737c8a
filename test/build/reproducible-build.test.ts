// Issue #20: two builds of one commit, in folders at different paths and at different times,
// give byte-identical dist/client, hence one code hash; and the release is sealed: every file
// in the manifest with its SHA-384, every script and style of index.html with integrity.
// Each build gets a copy of the sources and of this checkout's node_modules (hard links, so it
// is quick), each inside its folder as in a fresh clone: source maps name the packages' files
// by their path relative to the build.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module of the build scripts, without types
import { releaseFiles, sealRelease } from '../../scripts/release-manifest.mjs';

const root = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(os.tmpdir(), 'parley-repro-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function buildIn(dir: string, env: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['src', 'scripts', 'package.json', 'vite.config.ts', 'tsconfig.json']) cpSync(path.join(root, f), path.join(dir, f), { recursive: true });
  const linked = spawnSync('cp', ['-al', path.join(root, 'node_modules'), path.join(dir, 'node_modules')]);
  if (linked.status !== 0) cpSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), { recursive: true }); // another file system
  const vite = spawnSync(path.join(root, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'error'], { cwd: dir, env: { ...process.env, NODE_ENV: 'production', ...env }, encoding: 'utf8' });
  expect(vite.status, vite.stderr).toBe(0);
  const client = path.join(dir, 'dist', 'client');
  sealRelease(client);
  return client;
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('reproducible, sealed build (issue #20)', () => {
  it('builds byte-identical clients in two folders at different paths and times', { timeout: 240_000 }, async () => {
    const a = buildIn(path.join(work, 'first'), { TZ: 'UTC' });
    await new Promise((r) => setTimeout(r, 1100)); // another second on every clock
    const b = buildIn(path.join(work, 'second-clone', 'at', 'another', 'depth'), { TZ: 'Pacific/Auckland' });
    const filesA = releaseFiles(a);
    expect(filesA.length).toBeGreaterThan(5);
    expect(releaseFiles(b)).toEqual(filesA);
    const differing = [...filesA, '/manifest.json'].filter((f) => sha(path.join(a, f)) !== sha(path.join(b, f)));
    expect(differing).toEqual([]);

    // Sealed: the manifest names every other file with its SHA-384 …
    const manifest = JSON.parse(readFileSync(path.join(a, 'manifest.json'), 'utf8')) as { version: number; files: Record<string, string> };
    expect(Object.keys(manifest.files)).toEqual(filesA);
    for (const f of filesA) expect(manifest.files[f]).toBe(`sha384-${createHash('sha384').update(readFileSync(path.join(a, f))).digest('base64')}`);
    // … and index.html loads each script and style with the integrity the manifest gives it.
    const html = readFileSync(path.join(a, 'index.html'), 'utf8');
    const loads = [...html.matchAll(/<(?:script|link)\b[^>]*(?:src|href)="(\/[^"]+\.(?:js|css))"[^>]*>/g)];
    expect(loads.length).toBeGreaterThanOrEqual(3); // the guard, the script, the style
    for (const [tag, url] of loads) expect(tag).toContain(`integrity="${manifest.files[url!]}"`);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
  });
});
