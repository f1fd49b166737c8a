// Issue #8: contacts with presence, typing, message requests and blocking, notifications and
// the unread count in the tab title.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { call, openConversation, send, signUp, startChat, waitForMessage } from './support/app.ts';

let server: ServerProcess;
let browser: Browser;
const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  // A TURN server is configured (nothing listens there: no call here gets as far as media), so
  // a call to someone who is not a mutual contact, relay-only, is placed and refused by the relay.
  server = await startServerProcess({ TURN_URLS: 'turn:127.0.0.1:9?transport=udp', TURN_SECRET: 'x'.repeat(40) });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

async function person(): Promise<{ page: Page; context: BrowserContext }> {
  const context = await newContext(browser);
  const { page } = await recordedPage(context);
  return { page, context };
}

async function addContact(page: Page, who: string): Promise<void> {
  await page.getByRole('tab', { name: 'Contacts' }).click();
  const form = page.getByRole('form', { name: 'Add contact' });
  await form.getByLabel('Contact username').fill(who);
  await form.getByRole('button', { name: 'Add contact' }).click();
  await page.getByRole('list', { name: 'Contacts' }).getByRole('button', { name: who, exact: true }).waitFor();
}

function contactStatus(page: Page, who: string): Promise<string | null> {
  return page.locator(`#contact-${who}`).textContent();
}

describe('contacts and presence (issue #8)', () => {
  it('shows presence once both added each other, and it goes away when the contact leaves', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await person();
    const bob = await person();
    await signUp(alice.page, server.url, a);
    await signUp(bob.page, server.url, b);
    await addContact(alice.page, b);
    expect(await contactStatus(alice.page, b)).toBe('has not added you yet');
    await addContact(bob.page, a);
    await expect.poll(() => contactStatus(alice.page, b), { timeout: 15_000 }).toBe('online');
    await expect.poll(() => contactStatus(bob.page, a), { timeout: 15_000 }).toBe('online');
    await bob.page.close();
    await expect.poll(() => contactStatus(alice.page, b), { timeout: 15_000 }).toBe('offline');
    await alice.context.close();
    await bob.context.close();
  });

  it('shows that the contact is typing, without a call', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await person();
    const bob = await person();
    await signUp(alice.page, server.url, a);
    await signUp(bob.page, server.url, b);
    await addContact(alice.page, b);
    await addContact(bob.page, a);
    await expect.poll(() => contactStatus(alice.page, b), { timeout: 15_000 }).toBe('online');
    await alice.page.getByRole('list', { name: 'Contacts' }).getByRole('button', { name: b, exact: true }).click();
    await send(alice.page, 'are you there?');
    await bob.page.getByRole('tab', { name: 'Chats' }).click();
    await openConversation(bob.page, a);
    await waitForMessage(bob.page, 'are you there?');
    await bob.page.getByRole('textbox', { name: 'Message', exact: true }).pressSequentially('yes, writ', { delay: 30 });
    await alice.page.getByText(`${b} is typing…`).waitFor({ timeout: 15_000 });
    await send(bob.page, 'yes, writing now');
    await waitForMessage(alice.page, 'yes, writing now');
    await expect.poll(() => alice.page.getByText(`${b} is typing…`).count(), { timeout: 10_000 }).toBe(0);
    await alice.context.close();
    await bob.context.close();
  });

  it('turns a stranger\'s first message into a request, and blocking them stops everything', async () => {
    const [a, m] = [name('alice'), name('mallory')];
    const alice = await person();
    const mallory = await person();
    await signUp(alice.page, server.url, a);
    await signUp(mallory.page, server.url, m);
    await startChat(mallory.page, a);
    await send(mallory.page, 'hi, you do not know me');
    await openConversation(alice.page, m);
    await waitForMessage(alice.page, 'hi, you do not know me');
    const request = alice.page.getByRole('region', { name: 'Message request' });
    await request.waitFor();
    await request.getByRole('button', { name: 'Block' }).click();
    await alice.page.getByRole('region', { name: 'Blocked' }).waitFor();
    expect(await alice.page.getByRole('textbox', { name: 'Message', exact: true }).isDisabled()).toBe(true);

    await send(mallory.page, 'still there?');
    await call(mallory.page, 'voice');
    await mallory.page.getByText(`${a} cannot be reached for a call right now.`).waitFor();
    await alice.page.waitForTimeout(1500);
    expect(await alice.page.getByRole('log', { name: 'Messages' }).getByText('still there?').count()).toBe(0);
    expect(await alice.page.getByRole('alertdialog').count()).toBe(0);
    await alice.context.close();
    await mallory.context.close();
  });

  it('raises a notification while the tab is hidden, and counts unread messages in the title', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await person();
    await alice.context.grantPermissions(['notifications'], { origin: server.url });
    await alice.context.addInitScript(() => {
      const shown: Array<{ title: string; body: string }> = [];
      Object.defineProperty(window, '__notifications', { value: shown });
      const Real = window.Notification;
      class Recording extends Real {
        constructor(title: string, options?: NotificationOptions) {
          super(title, options);
          shown.push({ title, body: options?.body ?? '' });
        }
      }
      Object.defineProperty(window, 'Notification', { value: Recording });
    });
    const bob = await person();
    await signUp(alice.page, server.url, a);
    await signUp(bob.page, server.url, b);
    await startChat(bob.page, a);
    await send(bob.page, 'hello first');
    await openConversation(alice.page, b);
    await waitForMessage(alice.page, 'hello first');
    // Alice switches to another tab.
    await alice.page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      Object.defineProperty(document, 'hidden', { value: true, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await send(bob.page, 'ping while you are away');
    await expect
      .poll(() => alice.page.evaluate(() => (window as unknown as { __notifications: Array<{ title: string; body: string }> }).__notifications), { timeout: 15_000 })
      .toEqual([{ title: b, body: 'ping while you are away' }]);
    await expect.poll(() => alice.page.title(), { timeout: 10_000 }).toBe('(1) Parley');
    await alice.context.close();
    await bob.context.close();
  });
});
