// Chromium inside a namespace: Playwright launches a wrapper script that enters the namespace
// and execs Debian's Chromium; the DevTools pipe (fds 3 and 4) passes straight through.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../browser.ts';
import type { Role, Topology } from './topology.ts';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function launchChromiumIn(t: Topology, role: Role, extraArgs: string[] = []): Promise<Browser> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-chromium-ns-'));
  const wrapper = path.join(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${shellQuote(t.ns[role])} ${shellQuote(CHROMIUM)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({ executablePath: wrapper, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true, timeout: 60_000 });
  browser.on('disconnected', () => rmSync(dir, { recursive: true, force: true }));
  return browser;
}
