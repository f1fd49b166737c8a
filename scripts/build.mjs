// Builds the server (tsc → dist/server, dist/wire) and the web client (vite → dist/client),
// unless the build is newer than every input. `--force` always builds.
// Used by `npm start` so a fresh checkout needs no separate build step.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sealRelease, shortCodeHash } from './release-manifest.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const stamp = path.join(root, 'dist', '.build-stamp');
const inputs = ['src', 'package.json', 'package-lock.json', 'vite.config.ts', 'tsconfig.json', 'tsconfig.server.json'];

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, entry)));
  return newest;
}

export function buildIsStale() {
  if (!existsSync(stamp) || !existsSync(path.join(root, 'dist', 'client', 'index.html')) || !existsSync(path.join(root, 'dist', 'server', 'main.js'))) return true;
  const built = statSync(stamp).mtimeMs;
  return inputs.some((i) => newestMtime(path.join(root, i)) > built);
}

function run(cmd, args) {
  const bin = path.join(root, 'node_modules', '.bin', cmd);
  // NODE_ENV may be "test" when a test runner builds; the client must still be a production build.
  const res = spawnSync(bin, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } });
  if (res.status !== 0) {
    console.error(`\nBuild step failed: ${cmd} ${args.join(' ')}`);
    process.exit(res.status ?? 1);
  }
}

export function build() {
  console.log('Building Parley (server and web client)…');
  run('tsc', ['-p', 'tsconfig.server.json']);
  run('vite', ['build', '--logLevel', 'warn']);
  const { codeHash } = sealRelease(path.join(root, 'dist', 'client'));
  console.log(`Code hash: ${shortCodeHash(codeHash)} (SHA-384 of dist/client/manifest.json: ${codeHash})`);
  writeFileSync(stamp, new Date().toISOString() + '\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--force') || buildIsStale()) build();
  else console.log('Build is up to date.');
}
