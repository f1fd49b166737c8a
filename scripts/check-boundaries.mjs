// Checks the dependency directions of DESIGN.md / STYLE.md by reading every import in src/:
//   wire/, crypto/   import nothing of ours
//   protocol/        imports only crypto/ and wire/
//   server/          imports wire/ (and protocol/ types at most), never client/
//   client/ui/       reaches protocol/ and crypto/ only through messaging/
//   protocol/, crypto/ name no platform: no node:*, window, document, indexedDB, fetch, WebSocket
// (dependency-cruiser and typescript-eslint need the TypeScript 5 compiler API, which the
// TypeScript 7 native compiler used here does not ship; these rules are simple enough to read
// straight off the source.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// eslint-disable-next-line security/detect-unsafe-regex -- runs over our own source files, not input
const IMPORT = /(?:^|[\s;])(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const PLATFORM = /\b(window|document|indexedDB|localStorage|sessionStorage|fetch|WebSocket|RTCPeerConnection|process\.env)\b/;

function areaOf(srcRoot, file) {
  const rel = path.relative(srcRoot, file).split(path.sep);
  if (rel[0] === 'client' && rel[1] === 'ui') return 'client/ui';
  return rel[0];
}

const RULES = {
  wire: { allow: ['wire'] },
  crypto: { allow: ['crypto'], pure: true },
  protocol: { allow: ['protocol', 'crypto', 'wire'], pure: true },
  server: { allow: ['server', 'wire'], typeOnly: ['protocol'] },
  client: { allow: ['client', 'client/ui', 'wire', 'crypto', 'protocol'] },
  'client/ui': { allow: ['client/ui', 'client', 'wire'] },
};

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith('.d.ts') ? [p] : [];
  });
}

function stripComments(source) {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export function checkBoundaries(srcRoot) {
  const problems = [];
  for (const file of files(srcRoot)) {
    const from = areaOf(srcRoot, file);
    const rule = RULES[from];
    if (!rule) continue;
    const source = stripComments(readFileSync(file, 'utf8'));
    const rel = path.relative(srcRoot, file);
    for (const m of source.matchAll(IMPORT)) {
      const typeOnly = Boolean(m[1]);
      const spec = m[2] ?? m[3];
      if (rule.pure && spec.startsWith('node:')) problems.push(`${rel}: imports ${spec}; ${from}/ must run unchanged in the browser`);
      if (!spec.startsWith('.')) continue;
      const target = areaOf(srcRoot, path.resolve(path.dirname(file), spec));
      const allowed = rule.allow.includes(target) || (typeOnly && rule.typeOnly?.includes(target));
      // The UI talks to the rest of the client through messaging/ (the facade) only.
      const uiReach = from === 'client/ui' && target === 'client' && !path.resolve(path.dirname(file), spec).split(path.sep).includes('messaging');
      if (!allowed || uiReach) problems.push(`${rel}: ${from}/ may not import ${target}/ (${spec})`);
    }
    if (rule.pure) {
      const hit = PLATFORM.exec(source);
      if (hit) problems.push(`${rel}: names ${hit[1]}; ${from}/ takes I/O and platform objects as arguments`);
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', process.argv[2] ?? 'src');
  const problems = checkBoundaries(root);
  if (problems.length) {
    console.error(`Import boundaries broken (${problems.length}):\n  ${problems.join('\n  ')}`);
    process.exit(1);
  }
  console.log('Import boundaries hold.');
}
