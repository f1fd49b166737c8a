// The README's screenshots, made from the real app by this test (issue #8): run the e2e suite
// and docs/screenshots/ is refreshed. Each picture is checked to be a real, non-blank PNG.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { accept, call, send, signUp, startChat, waitDirect, waitForMessage } from './support/app.ts';
import { waitFigures } from './support/call-stats.ts';

let server: ServerProcess;
let browser: Browser;
const OUT = 'docs/screenshots';

beforeAll(async () => {
  server = await startServerProcess();
  browser = await launchBrowser({ media: true, serviceWorkers: true }); // as users have it: the code pinned
});
afterAll(async () => {
  await browser?.close();
  await server?.kill();
});

async function shot(page: Page, file: string): Promise<void> {
  await page.waitForTimeout(300); // let transitions settle
  await page.screenshot({ path: `${OUT}/${file}` });
  const png = readFileSync(`${OUT}/${file}`);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  expect(png.length).toBeGreaterThan(10_000); // a blank page compresses to almost nothing
}

describe('README screenshots', () => {
  it('captures sign-up, contacts, chat, safety number, About Parley, a video call, a group and a phone in dark mode', async () => {
    const open = async (viewport: { width: number; height: number }, colorScheme: 'light' | 'dark' = 'light') => {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport, colorScheme });
      await context.grantPermissions(['microphone', 'camera']);
      return (await recordedPage(context)).page;
    };
    const alice = await open({ width: 1100, height: 700 });
    const bob = await open({ width: 390, height: 780 }, 'dark');
    await alice.goto(server.url);
    await alice.getByRole('form', { name: 'Sign up' }).waitFor();
    await shot(alice, 'sign-up.png');

    await signUp(alice, server.url, 'alice');
    await signUp(bob, server.url, 'bob');
    // Each adds the other, so they see each other online and talk directly.
    await bob.getByRole('tab', { name: 'Contacts' }).click();
    await bob.getByRole('form', { name: 'Add contact' }).getByLabel('Contact username').fill('alice');
    await bob.getByRole('button', { name: 'Add contact' }).click();
    await bob.getByRole('list', { name: 'Contacts' }).waitFor();
    await bob.getByRole('tab', { name: 'Chats' }).click();
    await alice.getByRole('tab', { name: 'Contacts' }).click();
    await alice.getByRole('form', { name: 'Add contact' }).getByLabel('Contact username').fill('bob');
    await alice.getByRole('button', { name: 'Add contact' }).click();
    await alice.getByRole('list', { name: 'Contacts' }).waitFor();
    await alice.locator('#contact-bob').getByText('online').waitFor();
    await alice.getByRole('button', { name: 'Dismiss' }).click();
    await shot(alice, 'contacts.png');
    await alice.getByRole('tab', { name: 'Chats' }).click();

    await startChat(alice, 'bob');
    await waitDirect(alice);
    await startChat(bob, 'alice');
    const lines: Array<[Page, string]> = [
      [alice, 'Hi Bob! Are we still on for lunch tomorrow?'],
      [bob, 'Yes! 12:30 at the usual place 🍜'],
      [alice, 'Perfect. I will bring the book I promised.'],
      [bob, 'Thanks, see you then.'],
    ];
    for (const [page, text] of lines) {
      await send(page, text);
      await waitForMessage(page === alice ? bob : alice, text);
    }
    await shot(alice, 'chat.png');
    await shot(bob, 'chat-phone-dark.png');
    await alice.getByRole('button', { name: 'Safety number', exact: true }).click();
    await alice.getByLabel('Safety number', { exact: true }).waitFor();
    await shot(alice, 'safety-number.png');
    await alice.getByRole('button', { name: 'Close', exact: true }).click();

    // "About Parley": the code hash this browser runs, to compare with the published one.
    await alice.getByRole('button', { name: 'About Parley' }).click();
    const about = alice.getByRole('dialog', { name: 'About Parley' });
    await expect.poll(() => about.getByLabel('Code hash').textContent(), { timeout: 15_000 }).toMatch(/^[0-9a-f ]{29}$/); // six groups of four hex digits
    await about.getByText('This browser keeps running this version', { exact: false }).waitFor({ timeout: 15_000 });
    await shot(alice, 'about.png');
    await about.getByRole('button', { name: 'Close', exact: true }).click();

    await call(alice, 'video');
    await accept(bob);
    await waitFigures(alice, 'video from bob', (f) => f.framesDecoded > 40);
    await shot(alice, 'video-call.png');
    await alice.getByRole('button', { name: 'End call' }).click();

    // A group of three, with its info panel open.
    const carol = await open({ width: 390, height: 780 });
    await signUp(carol, server.url, 'carol');
    await alice.getByRole('button', { name: 'New group' }).click();
    const form = alice.getByRole('form', { name: 'New group' });
    await form.getByLabel('Group name').fill('Lunch club');
    for (const m of ['bob', 'carol']) {
      await form.getByLabel('Add member').fill(m);
      await form.getByRole('button', { name: 'Add', exact: true }).click();
      await form.getByRole('list', { name: 'Members' }).getByText(m, { exact: true }).waitFor();
    }
    await form.getByRole('button', { name: 'Create group' }).click();
    await alice.getByRole('region', { name: 'Group Lunch club' }).waitFor();
    await bob.getByRole('button', { name: 'Back to conversations' }).click(); // a phone shows one pane at a time
    for (const p of [bob, carol]) await p.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: 'Lunch club', exact: true }).click({ timeout: 30_000 });
    const groupLines: Array<[Page, string]> = [
      [alice, 'Same place on Friday, all three of us?'],
      [carol, 'Count me in!'],
      [bob, 'I will book a table for 12:30.'],
    ];
    for (const [page, text] of groupLines) {
      await send(page, text);
      for (const other of [alice, bob, carol].filter((x) => x !== page)) await waitForMessage(other, text);
    }
    await alice.getByText('Delivered to 2 of 2').first().waitFor({ timeout: 30_000 });
    await alice.getByRole('button', { name: 'Group info' }).click();
    await alice.getByRole('region', { name: 'Group info' }).getByLabel(/Safety number with/).first().waitFor({ timeout: 30_000 });
    await shot(alice, 'group.png');
    await carol.context().close();
    await alice.context().close();
    await bob.context().close();
  });
});
