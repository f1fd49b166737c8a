// Every relative link and image in README.md, SECURITY.md and docs/*.md points at a file that
// exists, and every #anchor at a heading of the file it names (issue #19: the README was split
// into docs/, and a section that moves must not leave dead links behind).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const DOCS = [
  'README.md',
  'SECURITY.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`),
];

/** The text with fenced code blocks blanked out (their lines kept, so nothing in them counts). */
function withoutFences(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined) {
      if (marker) {
        fence = marker;
        return '';
      }
      return line;
    }
    if (marker && marker[0] === fence[0] && marker.length >= fence.length && line.trim() === marker) fence = undefined;
    return '';
  });
}

/** GitHub's heading anchor: lower case, only letters, digits, spaces, hyphens and underscores kept, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors of a markdown file's headings, duplicates numbered -1, -2, … as GitHub does. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of withoutFences(text)) {
    const match = /^ {0,3}#{1,6}[ \t]+(.*)$/.exec(line);
    if (!match) continue;
    // A closing run of #s is not part of the heading.
    const heading = match[1]!.trimEnd().replace(/[ \t]#+$/, '').trimEnd();
    // Links in a heading count by their text only.
    const base = slug(heading.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1'));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function links(file: string, text: string): Link[] {
  const found: Link[] = [];
  withoutFences(text).forEach((raw, i) => {
    // Inline code is not a link, but a link's text may hold some: blank the code, keep the brackets.
    const line = raw.replace(/(`+)[^`]*?\1/g, (code) => ' '.repeat(code.length));
    const patterns = [
      /\]\(([^)]*)\)/g, // [text](target "title"), ![alt](target)
      /<img\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']/gi, // <img src="target">
      /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g, // [label]: target
    ];
    for (const pattern of patterns) {
      for (const match of line.matchAll(pattern)) {
        // The target is the first word, perhaps in <…>; a title may follow it.
        const target = match[1]!.trim().split(/\s/)[0]!.replace(/^<|>$/g, '');
        if (target !== '') found.push({ file, line: i + 1, target });
      }
    }
  });
  return found;
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

function check(link: Link): string | undefined {
  const hash = link.target.indexOf('#');
  const filePart = decodeURIComponent(hash < 0 ? link.target : link.target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(link.target.slice(hash + 1));
  const from = path.join(ROOT, link.file);
  const resolved = filePart === '' ? from : path.resolve(path.dirname(from), filePart);
  if (!resolved.startsWith(ROOT)) return `points outside the repository (${path.relative(ROOT, resolved)})`;
  if (!existsSync(resolved)) return `no such file: ${path.relative(ROOT, resolved)}`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md')) return `an anchor into ${path.relative(ROOT, resolved)}, which is not a markdown file`;
  if (!anchors(readFileSync(resolved, 'utf8')).has(anchor)) return `no heading in ${path.relative(ROOT, resolved)} has the anchor #${anchor}`;
  return undefined;
}

describe('documentation links', () => {
  const all = DOCS.flatMap((file) => links(file, readFileSync(path.join(ROOT, file), 'utf8')));
  const relative = all.filter((link) => !isExternal(link.target));

  it('reads README.md, SECURITY.md and docs/*.md, and finds their links', () => {
    expect(DOCS).toContain('docs/deploy.md');
    expect(relative.length).toBeGreaterThan(20);
    // Some of them anchors, across files and within one.
    expect(relative.some((link) => /^[^#]+\.md#/.test(link.target))).toBe(true);
  });

  it('point at files that exist and headings that exist', () => {
    const failures = relative.flatMap((link) => {
      const reason = check(link);
      return reason === undefined ? [] : [`${link.file}:${link.line}: (${link.target}) ${reason}`];
    });
    expect(failures, `broken links:\n${failures.join('\n')}`).toEqual([]);
  });

  it('make slugs as GitHub does', () => {
    expect(slug('Scale out: several processes behind a load balancer')).toBe('scale-out-several-processes-behind-a-load-balancer');
    expect(slug('Connect through any network: STUN and TURN (coturn)')).toBe('connect-through-any-network-stun-and-turn-coturn');
    expect(slug('`npm run bench:calls` — 2× faster, café')).toBe('npm-run-benchcalls--2-faster-café');
    expect([...anchors('# A\n## A\n```\n# A\n```\n### A\n')]).toEqual(['a', 'a-1', 'a-2']);
  });
});
