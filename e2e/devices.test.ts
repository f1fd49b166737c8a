// Issue #17 in the browser: one account in several browsers. Alice links a second browser with
// a link code; Bob sees no key change; every message reaches every browser, what Alice writes in
// one shows as sent in the other, reading in one reads in all; unlinking stops the unlinked one.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import Database from 'better-sqlite3';
import path from 'node:path';
import { launchBrowser, newContext, recordedPage, type Recording } from './support/browser.ts';
import { waitFigures } from './support/call-stats.ts';
import { decodeDeviceList, encodeDeviceList } from '../src/wire/device-list.ts';
import { deviceEntryOf } from '../src/protocol/device-list.ts';
import { sha256 } from '../src/crypto/sha.ts';
import { sign } from '../src/crypto/ecdsa.ts';
import { makeIdentity } from '../test/support/identity.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { accept, approveLink, befriend, bubbleTexts, call, logIn, openConversation, readSafetyNumber, send, showLinkCode, signUp, startChat, waitConnected, waitForMessage } from './support/app.ts';

let server: ServerProcess;
let browser: Browser;
const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

async function page(): Promise<{ page: Page; recording: Recording }> {
  return recordedPage(await newContext(browser));
}


describe('several browsers per account (issue #17)', () => {
  it('links a second browser: same safety number for Bob, every message everywhere, sent copies, read in all, unlink', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const { page: alice, recording: aliceRecording } = await page();
    const { page: bob } = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await befriend(alice, a, bob, b);
    await startChat(alice, b);
    await send(alice, 'before the laptop');
    await startChat(bob, a);
    await waitForMessage(bob, 'before the laptop');
    const safetyBefore = await readSafetyNumber(bob);

    const linked = await page();
    let laptop = linked.page;
    const recording = linked.recording;
    const code = await showLinkCode(laptop, server.url, a);
    await approveLink(alice, code, { name: 'Work laptop' });
    await waitConnected(laptop);
    await laptop.getByText('This browser is linked', { exact: false }).waitFor();
    // History and the conversation came along, end to end encrypted.
    await openConversation(laptop, b);
    await waitForMessage(laptop, 'before the laptop');
    // Both of Alice's browsers list both browsers.
    for (const p of [alice, laptop]) {
      const list = p.getByRole('list', { name: 'Linked browsers' });
      await expect.poll(() => list.getByRole('listitem').count()).toBe(2);
    }
    await alice.getByRole('list', { name: 'Linked browsers' }).getByText('Work laptop', { exact: true }).waitFor();

    // Bob writes: both of Alice's browsers show it, once each.
    await send(bob, 'hello both of you');
    await waitForMessage(alice, 'hello both of you');
    await waitForMessage(laptop, 'hello both of you');
    // Bob saw no warning; the same safety number, and a quiet line about the new browser.
    expect(await bob.getByRole('alert').filter({ hasText: 'safety number' }).count()).toBe(0);
    expect(await readSafetyNumber(bob)).toBe(safetyBefore);

    // Alice writes from the laptop: Bob gets it from Alice; her first browser shows it as sent.
    await send(laptop, 'written on the laptop');
    await waitForMessage(bob, 'written on the laptop');
    await waitForMessage(alice, 'written on the laptop');
    expect(await alice.getByRole('log', { name: 'Messages' }).locator('.bubble-me').getByText('written on the laptop').count()).toBe(1);
    await bob.getByText(`${a} linked a new browser`).waitFor();
    // The line is kept with the conversation: a reload does not lose it.
    await bob.reload();
    await waitConnected(bob);
    await openConversation(bob, a);
    await bob.getByText(`${a} linked a new browser`).waitFor();
    for (const p of [alice, laptop, bob]) {
      await expect.poll(async () => (await bubbleTexts(p)).filter((t) => t.includes('hello both of you')).length).toBe(1);
    }

    // Read in one browser, read in all: the laptop has the conversation closed, Alice's first
    // browser has it open; the laptop's unread mark goes once the first browser has read it.
    const c = name('carol');
    await signUp((await page()).page, server.url, c);
    await startChat(laptop, c);
    await send(bob, 'read me once');
    await waitForMessage(alice, 'read me once');
    await expect.poll(async () => (await bob.getByRole('log', { name: 'Messages' }).locator('.bubble-me').last().textContent()) ?? '', { timeout: 15_000 }).toContain('Read');
    const entry = laptop.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: b, exact: true });
    await expect.poll(async () => (await entry.textContent()) ?? '', { timeout: 15_000 }).toContain('read me once');
    await expect.poll(async () => (await entry.textContent()) ?? '', { timeout: 15_000 }).not.toMatch(/unread/);
    await openConversation(laptop, b);

    // What Alice writes in her first browser shows in the laptop as hers, sent.
    await send(alice, 'written on the first browser');
    await waitForMessage(laptop, 'written on the first browser');
    expect(await laptop.getByRole('log', { name: 'Messages' }).locator('.bubble-me').getByText('written on the first browser').count()).toBe(1);

    // A file from the first browser reaches Bob over the direct channel; the laptop, which does
    // not have its bytes, shows it as sent with a line naming it.
    await alice.getByLabel('Attach file').setInputFiles({ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('from the first browser') });
    await bob.getByRole('button', { name: 'Save note.txt' }).waitFor({ timeout: 30_000 });
    await laptop.getByRole('log', { name: 'Messages' }).locator('.bubble-me').getByText('Offered a file from another browser: note.txt (22 B)', { exact: false }).waitFor();

    // The laptop is closed while Bob and Alice write; opened again, it catches up.
    const laptopContext = laptop.context();
    await laptop.close();
    await send(bob, 'while the laptop was closed');
    await waitForMessage(alice, 'while the laptop was closed');
    await send(alice, 'also while it was closed');
    laptop = await laptopContext.newPage();
    await laptop.goto(server.url);
    await waitConnected(laptop);
    await openConversation(laptop, b);
    await waitForMessage(laptop, 'while the laptop was closed');
    await waitForMessage(laptop, 'also while it was closed');

    // The laptop's private keys are CryptoKeys it cannot export, like every browser's.
    const extractable = await laptop.evaluate(
      () =>
        new Promise<boolean[]>((resolve, reject) => {
          const open = indexedDB.open('parley');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const all = open.result.transaction('identity').objectStore('identity').getAll();
            all.onsuccess = () => resolve((all.result as Array<{ signing: { privateKey: CryptoKey }; dh: { privateKey: CryptoKey } }>).flatMap((i) => [i.signing.privateKey.extractable, i.dh.privateKey.extractable]));
          };
        }),
    );
    expect(extractable).toEqual([false, false]);

    // Nothing of it is plaintext to the server: neither browser's traffic, the link's included, holds message text.
    const seen = [...recording.all(), ...aliceRecording.all()];
    for (const secret of ['hello both of you', 'written on the laptop', 'before the laptop', 'written on the first browser']) expect(seen.join('\n')).not.toContain(secret);

    // Unlink the laptop from Alice's first browser: it is wiped, and Bob's next message reaches only Alice.
    await alice.getByRole('button', { name: 'Unlink Work laptop' }).click();
    await laptop.getByRole('form', { name: 'Log in' }).or(laptop.getByRole('form', { name: 'Sign up' })).waitFor({ timeout: 30_000 });
    await laptop.getByText('This browser was unlinked', { exact: false }).waitFor();
    await expect.poll(() => alice.getByRole('list', { name: 'Linked browsers' }).getByRole('listitem').count()).toBe(1);
    await send(bob, 'only for the first browser');
    await waitForMessage(alice, 'only for the first browser');
  });

  it('rings every browser of the callee; the first to accept takes the call, the others stop ringing', async () => {
    const media = await launchBrowser({ media: true });
    try {
      const person = async () => (await recordedPage(await newContext(media, { media: ['microphone'] }))).page;
      const [a, b] = [name('alice'), name('bob')];
      const alice = await person();
      const bob = await person();
      await signUp(alice, server.url, a);
      await signUp(bob, server.url, b);
      await befriend(alice, a, bob, b);
      const laptop = await person();
      await logIn(laptop, server.url, a, undefined, 'link');
      await laptop.getByRole('button', { name: 'Link to another browser' }).click();
      const code = laptop.getByRole('status', { name: 'Link code', exact: true });
      await code.waitFor();
      await approveLink(alice, (await code.textContent())!.trim(), { history: false });
      await waitConnected(laptop);
      await startChat(bob, a);

      await call(bob, 'voice');
      const ringing = (p: Page) => p.getByRole('alertdialog', { name: 'Incoming voice call' });
      await ringing(alice).waitFor({ timeout: 30_000 });
      await ringing(laptop).waitFor({ timeout: 30_000 });
      await accept(laptop);
      await ringing(alice).waitFor({ state: 'detached', timeout: 15_000 });
      await alice.getByText('Answered in another browser').waitFor();
      const sound = (f: { audioBytesIn: number; audioEnergyIn: number }) => f.audioBytesIn > 0 && f.audioEnergyIn > 0;
      await waitFigures(laptop, 'sound reaching the laptop', sound);
      await waitFigures(bob, 'sound reaching bob', sound);
      await laptop.getByRole('region', { name: `Call with ${b}` }).getByRole('button', { name: 'End call' }).click();
      await bob.getByRole('region', { name: `Call with ${a}` }).getByRole('button', { name: 'End call' }).waitFor({ state: 'detached', timeout: 15_000 });
    } finally {
      await media.close();
    }
  });

  it('resets the identity from a linked browser: the other is wiped, contacts get the blocking warning', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const { page: alice } = await page();
    const { page: bob } = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    const { page: laptop } = await page();
    const code = await showLinkCode(laptop, server.url, a);
    await approveLink(alice, code, { history: false, name: 'Laptop' });
    await waitConnected(laptop);
    await startChat(bob, a);
    await send(bob, 'before the reset');
    await openConversation(laptop, b);
    await waitForMessage(laptop, 'before the reset');
    const before = await readSafetyNumber(bob);

    // Alice thinks her first browser was stolen: from the laptop, "Reset identity".
    await laptop.getByRole('button', { name: 'Reset identity' }).click();
    const form = laptop.getByRole('form', { name: 'Reset identity' });
    await form.getByRole('button', { name: 'Reset identity' }).click();
    await form.waitFor({ state: 'detached' });
    await laptop.getByText('Your account has new keys', { exact: false }).waitFor();
    await alice.getByText('This browser was unlinked', { exact: false }).waitFor({ timeout: 30_000 });
    await expect.poll(() => laptop.getByRole('list', { name: 'Linked browsers' }).getByRole('listitem').count()).toBe(1);

    // Her next message reaches Bob with a new safety number: the blocking warning, as for any new identity.
    await waitConnected(laptop);
    await startChat(laptop, b);
    await send(laptop, 'new keys, same alice');
    await waitForMessage(bob, 'new keys, same alice');
    const alert = bob.getByRole('alert').filter({ hasText: 'safety number' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/has changed/i);
    const after = await readSafetyNumber(bob);
    expect(after).not.toBe(before);
    await bob.getByRole('button', { name: 'Accept new safety number' }).click();
    await send(bob, 'compared, welcome back');
    await waitForMessage(laptop, 'compared, welcome back');
  });

  it('stops a link whose request the server altered, with a clear message', async () => {
    const a = name('alice');
    const { page: alice } = await page();
    await signUp(alice, server.url, a);
    const { page: laptop } = await page();
    const code = await showLinkCode(laptop, server.url, a);
    // The server (here, a proxy in front of Alice's browser) swaps the new browser's ephemeral key.
    const swapped = await makeIdentity();
    await alice.context().route('**/api/links/*', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as { request: string; expiresAt: number };
      const request = JSON.parse(Buffer.from(body.request, 'base64url').toString('utf8')) as { ephemeral: string };
      request.ephemeral = Buffer.from(swapped.dh.publicRaw).toString('base64url');
      await route.fulfill({ response, json: { ...body, request: Buffer.from(JSON.stringify(request)).toString('base64url') } });
    });
    await alice.getByRole('button', { name: 'Link a new browser' }).click();
    const form = alice.getByRole('form', { name: 'Link a new browser' });
    await form.getByLabel('Link code').fill(code);
    await form.getByRole('button', { name: 'Link' }).click();
    await form.getByRole('alert').filter({ hasText: 'does not match the request the server holds' }).waitFor();
    expect(await alice.getByRole('form', { name: 'Confirm the new browser' }).count()).toBe(0);
    // Nothing was linked.
    expect(await alice.getByRole('list', { name: 'Linked browsers' }).getByRole('listitem').count()).toBe(1);
  });

  it('refuses a browser the server adds to the list, and an older list that would hide an unlinking', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const { page: alice } = await page();
    const { page: bob, recording } = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await befriend(alice, a, bob, b);
    const { page: laptop } = await page();
    const code = await showLinkCode(laptop, server.url, a);
    await approveLink(alice, code, { history: false });
    await waitConnected(laptop);
    await startChat(bob, a);
    await send(bob, 'to both browsers');
    // Linked without history: the conversation appears with Bob's message.
    await openConversation(laptop, b);
    await waitForMessage(laptop, 'to both browsers');

    // The server's operator writes a version 3 with a browser of their own into Alice's list.
    const db = new Database(path.join(server.dataDir, 'parley.sqlite'));
    try {
      const userId = (db.prepare('SELECT id FROM users WHERE username = ?').get(a) as { id: string }).id;
      const rows = db.prepare('SELECT version, body FROM device_lists WHERE user_id = ? ORDER BY version').all(userId) as Array<{ version: number; body: Buffer }>;
      const v2 = decodeDeviceList(new Uint8Array(rows[1]!.body));
      const ghost = await makeIdentity();
      const forged = encodeDeviceList({ ...v2, version: 3, previous: await sha256(new Uint8Array(rows[1]!.body)), signer: v2.devices[1]!.id, devices: [...v2.devices, deviceEntryOf('ghost', ghost)] });
      db.prepare('INSERT INTO device_lists (user_id, version, body, signature, created_at) VALUES (?, ?, ?, ?, ?)').run(userId, 3, Buffer.from(forged), Buffer.from(await sign(ghost.signing.privateKey, forged)), Date.now());
      db.prepare("INSERT INTO devices (user_id, device_id, name, created_at, last_seen_at) VALUES (?, 'ghost', 'ghost', 0, 0)").run(userId);

      // Bob's browser checks the list when he opens the chat again: it refuses version 3 and says so.
      await startChat(bob, a);
      await bob.getByText(`the server sent a list of ${a}'s browsers that does not verify`, { exact: false }).waitFor();
      await send(bob, 'still only to the real ones');
      await openConversation(alice, b);
      await waitForMessage(alice, 'still only to the real ones');
      await waitForMessage(laptop, 'still only to the real ones');
      // No key of the ghost browser was ever asked for: nothing was encrypted to it.
      expect(recording.httpBodies.some((r) => r.includes('device=ghost'))).toBe(false);
      expect(await bob.getByRole('alert').filter({ hasText: 'safety number' }).count()).toBe(0);

      // Now it serves only version 1, as if the laptop had never been linked (or never unlinked).
      db.prepare('DELETE FROM device_lists WHERE user_id = ? AND version > 1').run(userId);
      await startChat(bob, a);
      await expect.poll(() => bob.getByText(`the server sent a list of ${a}'s browsers that does not verify (an older list)`, { exact: false }).count()).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});
