// Issue #8: files go directly, encrypted in chunks, with a moving progress bar; a 50 MB file
// arrives intact (its hash checked here too), a transfer cut halfway resumes where it stopped,
// images get a preview made on the sender's side, and a file with no room to land is refused.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { cutDataChannels, launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { chatDirect, signUp, waitDirect } from './support/app.ts';

let server: ServerProcess;
let browser: Browser;
const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-files-'));
const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

/** Alice and Bob signed up, contacts of each other, with the direct channel up; `prepareBob` sets up Bob's browser before his page opens. */
async function pair(prepareBob?: (context: BrowserContext) => Promise<unknown>, bobOptions: { serviceWorkers?: 'block' } = {}): Promise<[Page, Page, string, string]> {
  const [a, b] = [name('alice'), name('bob')];
  const alice = (await recordedPage(await newContext(browser))).page;
  const bobContext = await newContext(browser, bobOptions);
  await prepareBob?.(bobContext);
  const bob = (await recordedPage(bobContext)).page;
  await signUp(alice, server.url, a);
  await signUp(bob, server.url, b);
  await chatDirect(alice, a, bob, b);
  return [alice, bob, a, b];
}

const NO_ROOM_HERE = 'Not enough storage space in this browser to receive it';
const NO_ROOM_THERE = 'Not enough storage space in their browser to receive it';

function bigFile(megabytes: number): { file: string; sha256: string } {
  const file = path.join(dir, `big-${megabytes}mb-${randomBytes(3).toString('hex')}.bin`);
  const data = randomBytes(megabytes * 1024 * 1024);
  writeFileSync(file, data);
  return { file, sha256: createHash('sha256').update(data).digest('hex') };
}

async function progressOf(page: Page, label: string): Promise<number | undefined> {
  const bar = page.getByRole('progressbar', { name: label });
  if ((await bar.count()) === 0) return undefined;
  return Number(await bar.getAttribute('value'));
}

async function saveAndHash(page: Page, fileName: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `Save ${fileName}` }).click()]);
  return createHash('sha256').update(readFileSync((await download.path())!)).digest('hex');
}

describe('files (issue #8)', () => {
  it('sends a 50 MB file that arrives intact, with the progress bar moving', async () => {
    const [alice, bob] = await pair();
    const { file, sha256 } = bigFile(50);
    const fileName = path.basename(file);
    await alice.getByLabel('Attach file').setInputFiles(file);
    const label = `Transfer of ${fileName}`;
    const seen: number[] = [];
    await expect
      .poll(
        async () => {
          const v = await progressOf(bob, label);
          if (v !== undefined) seen.push(v);
          return bob.getByRole('button', { name: `Save ${fileName}` }).count();
        },
        { timeout: 120_000, interval: 100 },
      )
      .toBe(1);
    const partial = seen.filter((v) => v > 0 && v < 50 * 1024 * 1024);
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(partial).toEqual([...partial].sort((x, y) => x - y));
    expect(await saveAndHash(bob, fileName)).toBe(sha256);
    await alice.getByText('Sent · checked').waitFor();
    await alice.context().close();
    await bob.context().close();
  });

  it('resumes a transfer cut halfway where it stopped, and the file is intact', async () => {
    const [alice, bob] = await pair();
    const { file, sha256 } = bigFile(50);
    const fileName = path.basename(file);
    const label = `Transfer of ${fileName}`;
    await alice.getByLabel('Attach file').setInputFiles(file);
    await expect.poll(async () => (await progressOf(bob, label)) ?? 0, { timeout: 60_000, interval: 50 }).toBeGreaterThan(20 * 1024 * 1024);
    expect(await cutDataChannels(alice)).toBeGreaterThan(0);
    await bob.getByText(/Paused/).first().waitFor({ timeout: 30_000 });
    const atCut = (await progressOf(bob, label)) ?? 0;
    expect(atCut).toBeGreaterThan(0);

    // The channel comes back by itself (the conversation is open on both sides), and the transfer with it.
    await waitDirect(alice);
    const afterResume: number[] = [];
    await expect
      .poll(
        async () => {
          const v = await progressOf(bob, label);
          if (v !== undefined) afterResume.push(v);
          return bob.getByRole('button', { name: `Save ${fileName}` }).count();
        },
        { timeout: 120_000, interval: 50 },
      )
      .toBe(1);
    // It went on from its checkpoint, not from the beginning.
    expect(Math.min(...afterResume)).toBeGreaterThanOrEqual(Math.floor(atCut / (16 * 1024 * 1024)) * 16 * 1024 * 1024);
    expect(await saveAndHash(bob, fileName)).toBe(sha256);
    await alice.context().close();
    await bob.context().close();
  });

  it('stops a transfer on Cancel, on both sides, and keeps no partial file to save', async () => {
    const [alice, bob] = await pair();
    const { file } = bigFile(40);
    const fileName = path.basename(file);
    await alice.getByLabel('Attach file').setInputFiles(file);
    await expect.poll(async () => (await progressOf(bob, `Transfer of ${fileName}`)) ?? 0, { timeout: 60_000, interval: 50 }).toBeGreaterThan(0);
    await bob.getByRole('button', { name: 'Cancel transfer' }).click();
    await bob.getByText('Cancelled').waitFor({ timeout: 15_000 });
    await alice.getByText('Cancelled').waitFor({ timeout: 15_000 });
    expect(await bob.getByRole('button', { name: `Save ${fileName}` }).count()).toBe(0);
    expect(await alice.getByRole('progressbar', { name: `Transfer of ${fileName}` }).count()).toBe(0);
    await alice.context().close();
    await bob.context().close();
  });

  it('refuses a file that this browser has no room for, at once, on both sides', async () => {
    // A browser that can store 1 MB more (a private window, a full disk), as the page sees it.
    const [alice, bob] = await pair((context) =>
      context.addInitScript(() => {
        navigator.storage.estimate = async () => ({ quota: 1_000_000, usage: 0 });
      }),
    );
    const { file } = bigFile(2);
    const fileName = path.basename(file);
    await alice.getByLabel('Attach file').setInputFiles(file);
    await bob.getByText(NO_ROOM_HERE).waitFor({ timeout: 30_000 });
    await alice.getByText(NO_ROOM_THERE).waitFor({ timeout: 15_000 });
    expect(await bob.getByRole('button', { name: `Save ${fileName}` }).count()).toBe(0);
    expect(await bob.getByRole('progressbar', { name: `Transfer of ${fileName}` }).count()).toBe(0);
    // A file that fits still arrives.
    const small = path.join(dir, 'small.txt');
    writeFileSync(small, 'fits in a megabyte');
    await alice.getByLabel('Attach file').setInputFiles(small);
    await bob.getByRole('button', { name: 'Save small.txt' }).waitFor({ timeout: 30_000 });
    await alice.context().close();
    await bob.context().close();
  });

  // Bob's browser refuses writes past `roomBytes` once, as a filling disk does (another download,
  // another tab), then finds room again; `error` is the name of the DOMException it throws.
  // Received files are written by the file worker (src/client/platform/file-worker.ts), so the
  // refusal goes into the worker's script as Bob's browser fetches it.
  function pairWithRoom(roomBytes: number, error = 'QuotaExceededError'): Promise<[Page, Page, string, string]> {
    const refuse = `{
      const write = FileSystemSyncAccessHandle.prototype.write;
      let written = 0;
      let failed = false;
      FileSystemSyncAccessHandle.prototype.write = function (data, options) {
        written += data.byteLength;
        if (!failed && written > ${roomBytes}) {
          failed = true;
          throw new DOMException('The write failed.', ${JSON.stringify(error)});
        }
        return write.call(this, data, options);
      };
    }
`;
    return pair(
      (context) =>
        context.route(/\/assets\/file-worker-[^/]*\.js$/, async (route) => {
          const response = await route.fetch();
          await route.fulfill({ response, body: refuse + (await response.text()) });
        }),
      { serviceWorkers: 'block' },
    );
  }

  async function storedFiles(page: Page): Promise<string[]> {
    return page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const names: string[] = [];
      for await (const key of (await root.getDirectoryHandle('parley-files', { create: true }) as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(key);
      return names;
    });
  }

  /** Alice sends `file` and Bob's write fails: each side reads why, and Bob keeps nothing of it. */
  async function sendAndSeeStopped(alice: Page, bob: Page, file: string, bobReads: string, aliceReads: string, timeoutMs: number): Promise<void> {
    const fileName = path.basename(file);
    await alice.getByLabel('Attach file').setInputFiles(file);
    await bob.getByText(bobReads).waitFor({ timeout: timeoutMs });
    await alice.getByText(aliceReads).waitFor({ timeout: 15_000 });
    expect(await alice.getByRole('progressbar', { name: `Transfer of ${fileName}` }).count()).toBe(0);
    expect(await bob.getByRole('button', { name: `Save ${fileName}` }).count()).toBe(0);
    expect(await storedFiles(bob)).toEqual([]);
  }

  it('stops at once on both sides when the receiver runs out of space during a transfer, and keeps no partial file', async () => {
    const [alice, bob] = await pairWithRoom(6 * 1024 * 1024);
    await sendAndSeeStopped(alice, bob, bigFile(40).file, NO_ROOM_HERE, NO_ROOM_THERE, 60_000);
    // Space freed, the next file arrives.
    const small = path.join(dir, 'after.txt');
    writeFileSync(small, 'room again');
    await alice.getByLabel('Attach file').setInputFiles(small);
    await bob.getByRole('button', { name: 'Save after.txt' }).waitFor({ timeout: 30_000 });
    await alice.context().close();
    await bob.context().close();
  });

  it('says so on both sides when a small file finds no room for its first write', async () => {
    const [alice, bob] = await pairWithRoom(0);
    await sendAndSeeStopped(alice, bob, bigFile(1).file, NO_ROOM_HERE, NO_ROOM_THERE, 30_000);
    await alice.context().close();
    await bob.context().close();
  });

  it('names a write failure other than a full disk on both sides, and keeps no partial file', async () => {
    const [alice, bob] = await pairWithRoom(6 * 1024 * 1024, 'InvalidStateError');
    await sendAndSeeStopped(alice, bob, bigFile(20).file, 'Could not be saved in this browser', 'Could not be saved in their browser', 60_000);
    await alice.context().close();
    await bob.context().close();
  });

  it('shows a preview of an image, made on the sender\'s side', async () => {
    const [alice, bob] = await pair();
    const png = await alice.evaluate(async () => {
      const canvas = new OffscreenCanvas(640, 480);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#3b5bdb';
      ctx.fillRect(0, 0, 640, 480);
      ctx.fillStyle = '#ffffff';
      ctx.fillRect(200, 150, 240, 180);
      const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      return Array.from(bytes);
    });
    await alice.getByLabel('Attach file').setInputFiles({ name: 'square.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    const preview = bob.getByRole('img', { name: 'Preview of square.png' });
    await preview.waitFor({ timeout: 30_000 });
    expect(await preview.getAttribute('src')).toMatch(/^data:image\/jpeg;base64,/);
    await bob.getByRole('button', { name: 'Save square.png' }).waitFor({ timeout: 30_000 });
    await alice.context().close();
    await bob.context().close();
  });
});
