// The import-boundary checker itself: it must pass on our tree and catch each kind of breach.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkBoundaries } from '../scripts/check-boundaries.mjs';

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'parley-bounds-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
  return root;
}

describe('import boundaries', () => {
  it('hold for Parley itself', () => {
    expect(checkBoundaries(path.resolve('src'))).toEqual([]);
  });

  it('catch each kind of breach', () => {
    const root = tree({
      'wire/a.ts': "import { x } from '../crypto/b.ts';",
      'crypto/b.ts': "import { readFile } from 'node:fs';\nexport const x = 1;",
      'protocol/c.ts': "import { y } from '../server/d.ts';\nconst r = await fetch('/');",
      'server/d.ts': "import { z } from '../client/e.ts';\nimport type { T } from '../protocol/c.ts';\nexport const y = 2;",
      'client/e.ts': 'export const z = 3;',
      'client/ui/f.tsx': "import { k } from '../../protocol/c.ts';\nimport { z } from '../e.ts';\nimport { ok } from '../messaging/g.ts';",
      'client/messaging/g.ts': 'export const ok = 1;',
    });
    const problems: string[] = checkBoundaries(root);
    const text = problems.join('\n');
    expect(text).toMatch(/wire\/a\.ts: wire\/ may not import crypto\//);
    expect(text).toMatch(/crypto\/b\.ts: imports node:fs/);
    expect(text).toMatch(/protocol\/c\.ts: protocol\/ may not import server\//);
    expect(text).toMatch(/protocol\/c\.ts: names fetch/);
    expect(text).toMatch(/server\/d\.ts: server\/ may not import client\//);
    expect(text).not.toMatch(/server\/d\.ts: server\/ may not import protocol\//); // type-only is allowed
    expect(text).toMatch(/client\/ui\/f\.tsx: client\/ui\/ may not import protocol\//);
    expect(text).toMatch(/client\/ui\/f\.tsx: client\/ui\/ may not import client\/ \(\.\.\/e\.ts\)/);
    expect(text).not.toMatch(/messaging\/g\.ts/);
    expect(problems).toHaveLength(7);
  });
});
