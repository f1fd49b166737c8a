// The states around a conversation as a person meets them (issues #2, #4 and #16): someone
// offline or unknown, a contact who leaves, logging out and back in, a reload, errors, and a
// phone-sized screen.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { chatDirect, logIn, logOut, send, signUp, startChat, waitChatOpen, waitConnected, waitForMessage } from './support/app.ts';

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

async function page(viewport?: { width: number; height: number }): Promise<Page> {
  const context = viewport ? await browser.newContext({ ignoreHTTPSErrors: true, viewport }) : await newContext(browser);
  return (await recordedPage(context)).page;
}

describe('call states', () => {
  it('opens the chat with someone offline, without ringing anyone; says plainly when a name does not exist', async () => {
    const alice = await page();
    await signUp(alice, server.url, name('alice'));
    const offline = name('carol');
    const carol = await page();
    await signUp(carol, server.url, offline);
    await carol.context().close();

    await startChat(alice, offline);
    await waitChatOpen(alice);
    await send(alice, 'for when you are back');
    await alice.getByRole('log', { name: 'Messages' }).getByText('Sent', { exact: true }).waitFor({ timeout: 15_000 });
    const ghost = name('nobody');
    const form = alice.getByRole('form', { name: 'New chat' });
    await form.getByLabel('Username').fill(ghost);
    await form.getByRole('button', { name: 'Start chat' }).click();
    await alice.getByRole('alert').getByText(`There is no Parley account named ${ghost}. Check the spelling.`).waitFor();
    await alice.context().close();
  });

  it('goes on through the server when a contact closes the app, and directly again when they are back', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await page();
    const bob = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await chatDirect(alice, a, bob, b);
    await send(alice, 'hello');
    await waitForMessage(bob, 'hello');
    const bobContext = bob.context();
    await bob.close();
    await alice.getByRole('status').filter({ hasText: 'End-to-end encrypted · via server' }).waitFor({ timeout: 30_000 });
    await send(alice, 'still here after you left');
    await alice.getByRole('log', { name: 'Messages' }).getByText('Sent', { exact: true }).waitFor({ timeout: 15_000 });
    const again = await bobContext.newPage();
    await again.goto(server.url); // still signed in: the refresh cookie is his browser's
    await waitConnected(again);
    await again.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: a, exact: true }).click();
    await waitForMessage(again, 'still here after you left');
    // Bob is back: the channel is set up again, without anyone ringing.
    await alice.getByRole('status').filter({ hasText: 'End-to-end encrypted · direct' }).waitFor({ timeout: 30_000 });
    expect(await alice.getByRole('alertdialog').count()).toBe(0);
    await alice.context().close();
    await bobContext.close();
  });

  it('keeps the session across a reload, and logs out and back in', async () => {
    const a = name('alice');
    const alice = await page();
    await signUp(alice, server.url, a);
    await alice.reload();
    await waitConnected(alice);
    await logOut(alice, 'keep');
    await alice.reload();
    await alice.getByRole('form', { name: 'Sign up' }).waitFor(); // the refresh cookie is gone
    await logIn(alice, server.url, a);
    await alice.context().close();
  });

  it('shows a clear error for a wrong password and for a bad username', async () => {
    const a = name('alice');
    const alice = await page();
    await signUp(alice, server.url, a);
    await logOut(alice, 'keep');
    await alice.getByRole('tab', { name: 'Log in' }).click();
    const form = alice.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Username').fill(a);
    await form.getByLabel('Password').fill('not my password');
    await form.getByRole('button', { name: 'Log in' }).click();
    await alice.getByRole('alert').getByText('That username and password do not match an account.').waitFor();

    await alice.getByRole('tab', { name: 'Sign up' }).click();
    const signup = alice.getByRole('form', { name: 'Sign up' });
    await signup.getByLabel('Username').fill('no spaces please');
    await signup.getByLabel('Password').fill('long enough password');
    await signup.getByRole('button', { name: 'Sign up' }).click();
    await alice.getByRole('alert').getByText(/letters a–z, digits/).waitFor();
    await alice.context().close();
  });

  it('works on a phone-sized screen', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const phone = { width: 375, height: 667 };
    const alice = await page(phone);
    const bob = await page(phone);
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await chatDirect(alice, a, bob, b);
    await send(bob, 'from a small screen');
    await waitForMessage(alice, 'from a small screen');
    // Nothing important is pushed off-screen sideways.
    const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    for (const control of [alice.getByRole('button', { name: 'Send' }), alice.getByRole('textbox', { name: 'Message', exact: true })]) {
      const box = await control.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(phone.width);
      expect(box!.y + box!.height).toBeLessThanOrEqual(phone.height);
    }
    // Back to the list, where the conversation is.
    await alice.getByRole('button', { name: 'Back to conversations' }).click();
    await alice.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: b, exact: true }).waitFor();
    await alice.context().close();
    await bob.context().close();
  });
});
