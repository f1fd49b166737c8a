// Data made by Parley v1 goes on under this version (issue #17): the v1 code (the last commit
// before several browsers per account, built from git) makes two accounts that talk, with
// their keys and sessions in two browser profiles and the server's data folder; then this
// version's server opens the same data folder on the same address, the same profiles load this
// version's app, and the conversation goes on without a key-change warning; Alice links a new
// browser, and Bob still sees the same safety number.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { approveLink, befriend, showLinkCode, openConversation, readSafetyNumber, send, signUp, startChat, waitConnected, waitForMessage } from './support/app.ts';

/** The last commit of v1: every key, session and queued envelope it made must go on working. */
const V1_COMMIT = 'c59ecbe';

function gitHasV1(): string | undefined {
  const res = spawnSync('git', ['cat-file', '-e', `${V1_COMMIT}^{commit}`], { encoding: 'utf8' });
  return res.status === 0 ? undefined : `this checkout has no git history with commit ${V1_COMMIT} (the v1 code to make the old data with)`;
}

const noV1 = gitHasV1();
if (noV1) console.warn(`e2e/v1-upgrade.test.ts skipped: ${noV1}`);

let v1Dir: string;
const profiles: string[] = [];
const contexts: BrowserContext[] = [];
const servers: ServerProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A browser profile on disk, as a person's browser keeps IndexedDB between versions of the app. */
async function profile(): Promise<{ context: BrowserContext; page: Page }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-profile-'));
  profiles.push(dir);
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, ignoreHTTPSErrors: true, viewport: { width: 1100, height: 760 } });
  contexts.push(context);
  return { context, page: (await recordedPage(context)).page };
}

beforeAll(async () => {
  if (noV1) return;
  // The v1 code, built as `npm start` builds it, with this checkout's installed packages.
  v1Dir = mkdtempSync(path.join(os.tmpdir(), 'parley-v1-'));
  execFileSync('sh', ['-c', `git archive ${V1_COMMIT} | tar -x -C "${v1Dir}"`]);
  symlinkSync(path.resolve('node_modules'), path.join(v1Dir, 'node_modules'));
  execFileSync(process.execPath, ['scripts/build.mjs', '--force'], { cwd: v1Dir, stdio: 'ignore' });
}, 300_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  for (const s of servers) await s.kill();
  for (const d of [...profiles, ...(v1Dir ? [v1Dir] : [])]) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(Boolean(noV1))('an account and a conversation from v1 (issue #17)', () => {
  it('go on under this version without a key change, and the account links a browser with the same safety number', async () => {
    const port = String(await freePort());
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'parley-v1-data-'));
    profiles.push(dataDir);
    const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;
    const [a, b] = [name('alice'), name('bob')];

    // v1: sign up, become contacts, talk both ways; one message waits in the queue at the switch.
    const old = await startServerProcess({ PORT: port, DATA_DIR: dataDir }, { cwd: v1Dir });
    servers.push(old);
    const alice = await profile();
    const bob = await profile();
    await signUp(alice.page, old.url, a);
    await signUp(bob.page, old.url, b);
    await befriend(alice.page, a, bob.page, b);
    await startChat(alice.page, b);
    await send(alice.page, 'written under v1');
    await startChat(bob.page, a);
    await waitForMessage(bob.page, 'written under v1');
    await send(bob.page, 'answered under v1');
    await waitForMessage(alice.page, 'answered under v1');
    const safetyBefore = await readSafetyNumber(bob.page);
    await alice.page.close();
    await send(bob.page, 'queued across the upgrade');
    await bob.page.getByRole('log', { name: 'Messages' }).getByText('Sent', { exact: true }).last().waitFor();
    await old.kill();

    // This version, on the same data folder and address.
    const server = await startServerProcess({ PORT: port, DATA_DIR: dataDir });
    servers.push(server);
    const alicePage = await alice.context.newPage();
    await alicePage.goto(server.url);
    await waitConnected(alicePage);
    await bob.page.reload();
    await waitConnected(bob.page);
    await openConversation(alicePage, b);
    await waitForMessage(alicePage, 'queued across the upgrade');
    await openConversation(bob.page, a);
    await send(bob.page, 'after the upgrade');
    await waitForMessage(alicePage, 'after the upgrade');
    await send(alicePage, 'and back');
    await waitForMessage(bob.page, 'and back');
    for (const p of [alicePage, bob.page]) expect(await p.getByRole('alert').filter({ hasText: 'safety number' }).count()).toBe(0);
    expect(await readSafetyNumber(bob.page)).toBe(safetyBefore);

    // The v1 account links a second browser: Bob sees the same number, and both browsers get his messages.
    const browser = await launchBrowser();
    try {
      const laptop = (await recordedPage(await newContext(browser))).page;
      await approveLink(alicePage, await showLinkCode(laptop, server.url, a));
      await waitConnected(laptop);
      await openConversation(laptop, b);
      await waitForMessage(laptop, 'written under v1');
      await send(bob.page, 'to both of your browsers');
      await waitForMessage(laptop, 'to both of your browsers');
      await waitForMessage(alicePage, 'to both of your browsers');
      expect(await bob.page.getByRole('alert').filter({ hasText: 'safety number' }).count()).toBe(0);
      expect(await readSafetyNumber(bob.page)).toBe(safetyBefore);
    } finally {
      await browser.close();
    }
  });
});
