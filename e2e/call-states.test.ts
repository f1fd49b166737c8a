// The states around a call as a person meets them (issues #2 and #4): someone offline or
// unknown, a declined call, a contact who leaves, logging out and back in, a reload, errors, and
// a phone-sized screen.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { accept, endCall, logIn, logOut, send, signUp, startCall, waitChatOpen, waitConnected, waitDirect, waitForMessage } from './support/app.ts';

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
  it('opens the chat with someone offline and says they will get the messages; says plainly when a name does not exist', async () => {
    const alice = await page();
    await signUp(alice, server.url, name('alice'));
    const offline = name('carol');
    const carol = await page();
    await signUp(carol, server.url, offline);
    await carol.context().close();

    await startCall(alice, offline);
    await alice.getByText(`${offline} is offline. They will get your messages when they come online.`).waitFor();
    await waitChatOpen(alice);
    const ghost = name('nobody');
    await startCall(alice, ghost);
    await alice.getByRole('alert').getByText(`There is no Parley account named ${ghost}. Check the spelling.`).waitFor();
    await alice.context().close();
  });

  it('tells the caller when the call is declined, and the other side when a contact leaves', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await page();
    const bob = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);

    await startCall(alice, b);
    await bob.getByRole('button', { name: 'Decline' }).click();
    await alice.getByText(`${b} declined the call.`).waitFor();

    await startCall(alice, b);
    await accept(bob);
    await waitDirect(alice);
    await send(alice, 'hello');
    await waitForMessage(bob, 'hello');
    await endCall(bob, alice);
    expect(await alice.getByText(`${b} left the call.`).count()).toBe(1);
    // The conversation stays: what is written now goes through the server.
    await send(alice, 'still here after the call');
    await waitForMessage(bob, 'still here after the call');
    await alice.context().close();
    await bob.context().close();
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
    await startCall(alice, b);
    await accept(bob);
    await waitDirect(bob);
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
