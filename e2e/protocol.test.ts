// Issue #3 in the browser: sessions that outlive direct channels and reloads, safety numbers
// that match on both sides, and a contact who logs in from a fresh browser: the other side is
// warned, cannot send until accepting the new safety number, and the chat then goes on.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { befriend, logIn, openConversation, readSafetyNumber, send, signUp, startChat, waitChatOpen, waitDirect, waitForMessage } from './support/app.ts';

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

async function page(): Promise<Page> {
  return (await recordedPage(await newContext(browser))).page;
}

/** Contacts of each other: both open the chat, the direct channel comes up, and `writer` writes. */
async function connectAndChat(writer: Page, writerName: string, reader: Page, readerName: string, text: string) {
  await startChat(writer, readerName);
  await startChat(reader, writerName);
  await waitDirect(writer);
  await send(writer, text);
  await waitForMessage(reader, text);
}

describe('protocol v1 in the browser (issue #3)', () => {
  it('shows both people the same 60-digit safety number, and keeps the session across a reload', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await page();
    const bob = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await befriend(alice, a, bob, b);
    await connectAndChat(alice, a, bob, b, 'first channel');
    const fromAlice = await readSafetyNumber(alice);
    const fromBob = await readSafetyNumber(bob);
    expect(fromAlice).toMatch(/^\d{60}$/);
    expect(fromBob).toBe(fromAlice);
    await alice.getByRole('button', { name: 'Mark as verified' }).click();
    await alice.getByText('Verified', { exact: true }).waitFor();

    // After Bob reloads, a new channel, the other way round: the same session and numbers.
    await bob.reload();
    await bob.getByRole('status', { name: 'Server: Connected' }).waitFor();
    await connectAndChat(bob, b, alice, a, 'second channel, same session');
    expect(await readSafetyNumber(bob)).toBe(fromAlice);
    await alice.context().close();
    await bob.context().close();
  });

  it('warns when a contact logs in from a fresh browser, blocks sending until accepted, then goes on', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await page();
    const bob = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await befriend(alice, a, bob, b);
    await connectAndChat(alice, a, bob, b, 'before the new browser');
    const before = await readSafetyNumber(alice);
    await alice.getByRole('button', { name: 'Mark as verified' }).click();
    await bob.context().close();

    // Bob on a fresh browser profile: no keys there, so new ones are made and published.
    const newBob = await page();
    await logIn(newBob, server.url, b);

    await startChat(alice, b);
    const alert = alice.getByRole('alert').filter({ hasText: 'safety number' });
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/safety number with .* has changed/i);
    expect(await alert.textContent()).toMatch(/had verified/);
    await alice.getByRole('status').filter({ hasText: 'End-to-end encrypted · direct' }).waitFor();
    const field = alice.getByRole('textbox', { name: 'Message', exact: true });
    expect(await field.isDisabled()).toBe(true);
    expect(await alice.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);

    const after = await readSafetyNumber(alice);
    expect(after).toMatch(/^\d{60}$/);
    expect(after).not.toBe(before);
    await alice.getByRole('button', { name: 'Accept new safety number' }).click();
    await waitChatOpen(alice);
    await startChat(newBob, a);
    await send(alice, 'welcome back, bob');
    await waitForMessage(newBob, 'welcome back, bob');
    await send(newBob, 'thanks, new browser here');
    await waitForMessage(alice, 'thanks, new browser here');
    expect(await readSafetyNumber(newBob)).toBe(after);
    // The old verification does not carry over to the new key.
    expect(await alice.getByText('Verified', { exact: true }).count()).toBe(0);
    await alice.context().close();
    await newBob.context().close();
  });

  it('warns the reader too when the writer is the one with the new browser', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await page();
    const bob = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await befriend(alice, a, bob, b);
    await connectAndChat(alice, a, bob, b, 'hello');
    await bob.context().close();

    const newBob = await page();
    await logIn(newBob, server.url, b);
    await startChat(newBob, a);
    await send(newBob, 'hi, new browser');
    await openConversation(alice, b);
    await alice.getByRole('alert').filter({ hasText: 'has changed' }).waitFor();
    expect(await alice.getByRole('textbox', { name: 'Message', exact: true }).isDisabled()).toBe(true);
    await alice.getByRole('button', { name: 'Accept new safety number' }).click();
    await waitChatOpen(alice);
    await send(alice, 'ok, I accepted your new number');
    await waitForMessage(newBob, 'ok, I accepted your new number');
    await send(newBob, 'great');
    await waitForMessage(alice, 'great');
    await alice.context().close();
    await newBob.context().close();
  });
});
