// Issues #8 and #16: axe-core finds no serious or critical violation on the sign-up, chat,
// contacts and call screens (WCAG 2.1 A and AA rules), in light and dark colour schemes.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { accept, call, chatDirect, send, signUp, waitForMessage } from './support/app.ts';

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

async function serious(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

describe('accessibility (issue #8)', () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    it(`has no serious or critical axe violation on sign-up, chat, contacts and a call (${colorScheme})`, async () => {
      const open = async () => {
        const context = await browser.newContext({ ignoreHTTPSErrors: true, colorScheme });
        await context.grantPermissions(['microphone', 'camera']);
        return (await recordedPage(context)).page;
      };
      const alice = await open();
      const bob = await open();
      await alice.goto(server.url);
      await alice.getByRole('form', { name: 'Sign up' }).waitFor();
      expect(await serious(alice)).toEqual([]);

      const [a, b] = [name('alice'), name('bob')];
      await signUp(alice, server.url, a);
      await signUp(bob, server.url, b);
      await chatDirect(alice, a, bob, b);
      await alice.getByRole('tab', { name: 'Contacts' }).click();
      expect(await serious(alice)).toEqual([]);
      await alice.getByRole('tab', { name: 'Chats' }).click();
      await send(alice, 'accessible hello');
      await waitForMessage(bob, 'accessible hello');
      expect(await serious(alice)).toEqual([]);
      await alice.getByRole('button', { name: 'Safety number', exact: true }).click();
      expect(await serious(alice)).toEqual([]);

      await call(alice, 'video');
      await bob.getByRole('alertdialog', { name: 'Incoming video call' }).waitFor();
      expect(await serious(bob)).toEqual([]);
      await accept(bob);
      await alice.getByRole('region', { name: `Call with ${b}` }).getByText(/\d:\d\d/).waitFor({ timeout: 30_000 });
      expect(await serious(alice)).toEqual([]);
      await alice.context().close();
      await bob.context().close();
    });
  }
});
