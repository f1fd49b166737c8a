// Builds the app once before the browser suite, exactly as `npm start` would.
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  const res = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (res.status !== 0) throw new Error('build failed');
}
