// Issue #6 in the browser: the app runs under its strict Content-Security-Policy without a single
// violation, and a password change logs the account out of every other browser.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { accept, call, chatDirect, logIn, send, signUp, waitForMessage } from './support/app.ts';
import { waitFigures } from './support/call-stats.ts';

let server: ServerProcess;
let browser: Browser;
const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchBrowser({ media: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

const CSP_TAP = `
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
`;

describe('security in the browser (issue #6)', () => {
  it('serves the app under a strict CSP with no inline script, and nothing violates it, calls included', async () => {
    const context = await newContext(browser, { media: ['microphone', 'camera'] });
    await context.addInitScript(CSP_TAP);
    const { page: alice } = await recordedPage(context);
    const response = await alice.goto(server.url);
    const headers = response!.headers();
    expect(headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(headers['strict-transport-security']).toMatch(/max-age=31536000/);
    const html = await response!.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
    expect(html).not.toMatch(/\son[a-z]+=/i); // no inline event handlers

    const bobContext = await newContext(browser, { media: ['microphone', 'camera'] });
    await bobContext.addInitScript(CSP_TAP);
    const { page: bob } = await recordedPage(bobContext);
    const [a, b] = [name('alice'), name('bob')];
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await chatDirect(alice, a, bob, b);
    await send(alice, 'under CSP');
    await waitForMessage(bob, 'under CSP');
    await alice.getByRole('button', { name: 'Safety number', exact: true }).click();
    await alice.getByLabel('Safety number', { exact: true }).waitFor();
    // A video call: its frame-encryption worker runs under the same policy (worker-src 'self').
    await call(alice, 'video');
    await accept(bob);
    for (const p of [alice, bob]) await waitFigures(p, 'video decoded', (f) => f.framesDecoded > 20);
    for (const p of [alice, bob]) expect(await p.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations)).toEqual([]);
    await context.close();
    await bobContext.close();
  });

  it('logs the account out of other browsers when its password is changed', async () => {
    const a = name('alice');
    const laptop = (await recordedPage(await newContext(browser))).page;
    await signUp(laptop, server.url, a);
    const phone = (await recordedPage(await newContext(browser))).page;
    await logIn(phone, server.url, a); // this browser now holds the account's connection

    await phone.getByRole('button', { name: 'Change password' }).click();
    const form = phone.getByRole('form', { name: 'Change password' });
    await form.getByLabel('Current password').fill('correct horse battery');
    await form.getByLabel('New password').fill('an entirely new passphrase');
    await form.getByRole('button', { name: 'Change password' }).click();
    await phone.getByText('Your password is changed.', { exact: false }).waitFor();
    await phone.getByRole('status', { name: 'Server: Connected' }).waitFor();

    // The laptop's session is over: any use of it ends at the sign-in screen.
    await laptop.reload();
    await laptop.getByRole('form', { name: 'Sign up' }).waitFor();
    await logIn(laptop, server.url, a, 'an entirely new passphrase');
  });
});
