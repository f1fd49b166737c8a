// Issue #2: the states around a call as a person meets them: nobody there, a declined call, a
// peer who leaves, logging out and back in, a reload, and a phone-sized screen.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { accept, logIn, send, signUp, startCall, waitChatOpen, waitConnected, waitForMessage } from './support/app.ts';

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

describe('call states (issue #2)', () => {
  it('says plainly when the callee does not exist or is offline, in the same words', async () => {
    const alice = await page();
    await signUp(alice, server.url, name('alice'));
    const offline = name('carol');
    const carol = await page();
    await signUp(carol, server.url, offline);
    await carol.context().close();

    await startCall(alice, offline);
    const offlineText = await alice.getByText(/is not available right now/).textContent();
    await alice.getByRole('button', { name: 'Close' }).click();
    await startCall(alice, name('nobody'));
    const unknownText = await alice.getByText(/is not available right now/).textContent();
    expect(offlineText?.replace(/^\S+/, '')).toBe(unknownText?.replace(/^\S+/, ''));
    await alice.context().close();
  });

  it('tells the caller when the call is declined, and the other side when a peer leaves', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await page();
    const bob = await page();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);

    await startCall(alice, b);
    await bob.getByRole('button', { name: 'Decline' }).click();
    await alice.getByText(`${b} declined the call.`).waitFor();
    await alice.getByRole('button', { name: 'Close' }).click();

    await startCall(alice, b);
    await accept(bob);
    await waitChatOpen(alice);
    await send(alice, 'hello');
    await waitForMessage(bob, 'hello');
    await bob.getByRole('button', { name: 'Hang up' }).click();
    await alice.getByText(`${b} left the chat.`).waitFor();
    expect(await alice.getByRole('textbox', { name: 'Message', exact: true }).isDisabled()).toBe(true);
    await alice.context().close();
    await bob.context().close();
  });

  it('keeps the session across a reload, and logs out and back in', async () => {
    const a = name('alice');
    const alice = await page();
    await signUp(alice, server.url, a);
    await alice.reload();
    await waitConnected(alice);
    await alice.getByRole('button', { name: 'Log out' }).click();
    await alice.getByRole('form', { name: 'Log in' }).or(alice.getByRole('form', { name: 'Sign up' })).waitFor();
    await alice.reload();
    await alice.getByRole('form', { name: 'Sign up' }).waitFor(); // the refresh cookie is gone
    await logIn(alice, server.url, a);
    await alice.context().close();
  });

  it('shows a clear error for a wrong password and for a bad username', async () => {
    const a = name('alice');
    const alice = await page();
    await signUp(alice, server.url, a);
    await alice.getByRole('button', { name: 'Log out' }).click();
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
    await waitChatOpen(bob);
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
    await alice.context().close();
    await bob.context().close();
  });
});
