// `npm run verify -- https://host`: does a running Parley serve exactly the web client this
// checkout builds? Builds this commit (when the build is not current), fetches the server's
// release manifest and every file it names or this build has, and compares them byte for byte
// by SHA-384. Prints "matches" with the code hash, or each file that differs; exits 0 when the
// server matches, 1 when it does not, 2 when it cannot tell.
// `--insecure` accepts a certificate no authority signed (a test server's self-signed one).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, buildIsStale } from './build.mjs';
import { MANIFEST, releaseFiles, shortCodeHash } from './release-manifest.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const client = path.join(root, 'dist', 'client');
const args = process.argv.slice(2);
const insecure = args.includes('--insecure');
const target = args.find((a) => !a.startsWith('--'));

function fail(message) {
  console.error(message);
  process.exit(2);
}

if (!target) fail('Usage: npm run verify -- https://your-parley-host [--insecure]');
let base;
try {
  base = new URL(target);
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new Error();
} catch {
  fail(`Not an http(s) address: ${target}`);
}

/** The body of GET `pathname` on the server, or its status when it is not 200. */
function get(pathname) {
  const url = new URL(pathname, base);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { rejectUnauthorized: !insecure, headers: { 'cache-control': 'no-cache' }, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 ? { body: Buffer.concat(chunks) } : { status: res.statusCode }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

const sha384 = (bytes) => createHash('sha384').update(bytes).digest('hex');

if (buildIsStale()) build();
const localManifest = readFileSync(path.join(client, MANIFEST));
const localFiles = new Map(releaseFiles(client).map((f) => [f, sha384(readFileSync(path.join(client, f)))]));
const localHash = sha384(localManifest);

let remote;
try {
  remote = await get(`/${MANIFEST}`);
} catch (e) {
  fail(`Could not reach ${base.origin}: ${e.message}`);
}
if (!remote.body) fail(`${base.origin}/${MANIFEST} answered ${remote.status}: not a Parley release (or one older than manifests).`);
let remoteFiles;
try {
  remoteFiles = Object.keys(JSON.parse(remote.body.toString('utf8')).files);
} catch {
  fail(`${base.origin}/${MANIFEST} is not a release manifest.`);
}

const problems = [];
if (sha384(remote.body) !== localHash) problems.push(`differs: /${MANIFEST} (the server's code hash is ${shortCodeHash(sha384(remote.body))})`);
for (const file of [...new Set([...localFiles.keys(), ...remoteFiles])].sort()) {
  const mine = localFiles.get(file);
  const theirs = await get(file).catch((e) => ({ error: e.message }));
  if (!theirs.body) problems.push(mine ? `missing on the server: ${file} (${theirs.status ?? theirs.error})` : `named by the server's manifest but not served: ${file}`);
  else if (!mine) problems.push(`only on the server: ${file}`);
  else if (sha384(theirs.body) !== mine) problems.push(`differs: ${file}`);
}

if (problems.length === 0) {
  console.log(`matches: ${base.origin} serves this build, ${localFiles.size} files (code hash ${shortCodeHash(localHash)}, SHA-384 ${localHash})`);
} else {
  console.log(`does not match: ${base.origin} serves a web client other than this build (code hash ${shortCodeHash(localHash)})`);
  for (const p of problems) console.log(`  ${p}`);
  process.exitCode = 1;
}
