// Issue #16: voice and video calls between two browsers with Chromium's fake devices, checked
// through getStats() on both sides.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { startServerProcess, type ServerProcess } from './support/server-process.ts';
import { accept, befriend, call, signUp, startChat } from './support/app.ts';
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

async function person(media: Array<'microphone' | 'camera'> = ['microphone', 'camera']): Promise<Page> {
  return (await recordedPage(await newContext(browser, { media }))).page;
}

describe('calls (issue #16)', () => {
  it('a voice call between two contacts carries sound both ways on a direct path', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await person();
    const bob = await person();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await befriend(alice, a, bob, b);
    await startChat(alice, b);
    await call(alice, 'voice');
    const dialog = bob.getByRole('alertdialog', { name: 'Incoming voice call' });
    await dialog.waitFor({ timeout: 30_000 });
    expect(await dialog.textContent()).toContain(a);
    await accept(bob);
    await alice.getByRole('region', { name: `Call with ${b}` }).waitFor();
    for (const p of [alice, bob]) {
      const f = await waitFigures(p, 'audio flowing', (x) => x.audioBytesIn > 5_000 && x.audioEnergyIn > 0.01);
      expect(f.localCandidate).toBe('host');
    }
    await alice.screenshot({ path: '/tmp/voice-alice.png' });
    await alice.context().close();
    await bob.context().close();
  });

  it('a video call carries video both ways', async () => {
    const [a, b] = [name('alice'), name('bob')];
    const alice = await person();
    const bob = await person();
    await signUp(alice, server.url, a);
    await signUp(bob, server.url, b);
    await befriend(alice, a, bob, b);
    await startChat(alice, b);
    await call(alice, 'video');
    await bob.getByRole('alertdialog', { name: 'Incoming video call' }).waitFor({ timeout: 30_000 });
    await bob.screenshot({ path: '/tmp/ringing-bob.png' });
    await accept(bob);
    for (const p of [alice, bob]) await waitFigures(p, 'video flowing', (x) => x.framesDecoded > 30 && x.audioEnergyIn > 0.01);
    await alice.waitForTimeout(1000);
    await alice.screenshot({ path: '/tmp/video-alice.png' });
    await alice.context().close();
    await bob.context().close();
  });
});
