// Compiles the relays under test (Parley's server and the bench's server child) with tsc, as
// `npm run build` does, into dist/bench-signaling/, so they run as plain JavaScript, the way
// production runs them. Under tsx every closure carries an own `name` property (esbuild's
// keepNames), which alone adds kilobytes per connection to the measured heap.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function compileRelays(): string {
  const outDir = path.join(root, 'dist', 'bench-signaling');
  mkdirSync(outDir, { recursive: true });
  const tsconfig = path.join(outDir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: path.join(root, 'tsconfig.server.json'),
      compilerOptions: { rootDir: root, outDir, noEmit: false, sourceMap: false },
      include: [path.join(root, 'src/server'), path.join(root, 'src/wire'), path.join(root, 'bench/signaling/server-child.ts')],
    }),
  );
  const res = spawnSync(path.join(root, 'node_modules', '.bin', 'tsc'), ['-p', tsconfig], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) throw new Error('tsc could not compile the relays for the benchmark');
  return outDir;
}
