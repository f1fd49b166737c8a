// A real nginx in front of Parley, configured from docs/deploy.md's own example (the first `nginx`
// block, under "Scale out"), so the configuration users copy is the one tested. Only what must differ
// on a test machine is changed: the upstream's servers, the listening address, the certificate,
// and where nginx keeps its pid, logs and buffers. Debian's `nginx` package; without it the
// tests that need it skip and say why.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSelfSigned } from '../../src/server/tls/self-signed.ts';
import { freePort } from '../../test/support/ports.ts';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';

export const nginxSkipReason: string | undefined = existsSync(NGINX) ? undefined : `nginx not found at ${NGINX} (apt-get install -y nginx; scripts/test.sh installs it as root)`;

/** docs/deploy.md's example, from `upstream parley {` to the end of its code block. */
export function deployNginxExample(doc = readFileSync(fileURLToPath(new URL('../../docs/deploy.md', import.meta.url)), 'utf8')): string {
  const start = doc.indexOf('```nginx\nupstream parley {');
  if (start < 0) throw new Error('docs/deploy.md has no nginx example beginning with "upstream parley {"');
  const body = doc.slice(start + '```nginx\n'.length);
  return body.slice(0, body.indexOf('```'));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Nginx {
  url: string;
  /** The plain-HTTP server block's address (it only redirects). */
  plainUrl: string;
  close(): Promise<void>;
}

export async function startNginx(upstreamPorts: number[]): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-nginx-'));
  // As root, nginx's workers run as an unprivileged user, which must reach the buffer folders.
  chmodSync(dir, 0o755);
  for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    mkdirSync(path.join(dir, sub));
    chmodSync(path.join(dir, sub), 0o777);
  }
  const pair = await generateSelfSigned(['127.0.0.1']);
  writeFileSync(path.join(dir, 'cert.pem'), pair.cert);
  writeFileSync(path.join(dir, 'key.pem'), pair.key, { mode: 0o600 });
  const port = await freePort();
  const plainPort = await freePort();

  let example = deployNginxExample();
  const upstream = /upstream parley \{[^}]*\}/.exec(example);
  if (!upstream) throw new Error('docs/deploy.md nginx example: no upstream block');
  example = example.replace(upstream[0], `upstream parley {\n${upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=2 fail_timeout=5s;`).join('\n')}\n}`);
  const substitutions: Array<[RegExp, string]> = [
    [/listen 443 ssl;/, `listen 127.0.0.1:${port} ssl;`],
    [/listen 80;/, `listen 127.0.0.1:${plainPort};`],
    [/ssl_certificate\s+\S+;/, `ssl_certificate ${path.join(dir, 'cert.pem')};`],
    [/ssl_certificate_key\s+\S+;/, `ssl_certificate_key ${path.join(dir, 'key.pem')};`],
  ];
  for (const [pattern, replacement] of substitutions) {
    if (!pattern.test(example)) throw new Error(`docs/deploy.md nginx example: nothing matches ${pattern}`);
    example = example.replace(pattern, replacement);
  }
  const conf = [
    'daemon off;',
    'worker_processes 1;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} warn;`,
    'events { worker_connections 256; }',
    'http {',
    '    access_log off;',
    ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((sub) => `    ${sub === 'body' ? 'client_body' : sub}_temp_path ${path.join(dir, sub)};`),
    example,
    '}',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, 'nginx.conf'), conf);

  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const log = existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : '';
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`nginx did not start:\n${out}\n${log}\n--- nginx.conf ---\n${conf}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `https://127.0.0.1:${port}`,
    plainUrl: `http://127.0.0.1:${plainPort}`,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGQUIT'); // graceful: workers finish, then the master leaves
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
