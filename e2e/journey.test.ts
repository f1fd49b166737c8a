// Issue #2, the v0 journey: two people sign up in two browsers, call, and chat end-to-end
// encrypted; nothing they write reaches the server or crosses the DataChannel in the clear,
// and the chat survives the server being killed.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { collectDataChannel, launchBrowser, newContext, recordedPage } from './support/browser.ts';
import { filesUnder, startServerProcess, type ServerProcess } from './support/server-process.ts';
import { chatDirect, messagesText, send, signUp, waitForMessage } from './support/app.ts';


describe('v0 journey (issue #2)', () => {
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    server = await startServerProcess();
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.kill('SIGKILL');
  });

  it('sign up, add each other, chat encrypted both ways, and keep chatting after the server is killed', async () => {
    const tag = randomBytes(4).toString('hex');
    const alice = `alice_${tag}`;
    const bob = `bob_${tag}`;
    const a = await recordedPage(await newContext(browser));
    const b = await recordedPage(await newContext(browser));

    await signUp(a.page, server.url, alice);
    await signUp(b.page, server.url, bob);

    // Contacts of each other: opening the chat sets up the direct channel; nobody is rung.
    await chatDirect(a.page, alice, b.page, bob);
    expect(await a.page.getByRole('alertdialog').count()).toBe(0);
    expect(await b.page.getByRole('alertdialog').count()).toBe(0);

    const secrets = [`first secret ${randomBytes(6).toString('hex')}`, `reply secret ${randomBytes(6).toString('hex')}`];
    await send(a.page, secrets[0]!);
    await waitForMessage(b.page, secrets[0]!);
    await send(b.page, secrets[1]!);
    await waitForMessage(a.page, secrets[1]!);

    // The server goes away for good; the direct channel does not need it.
    await server.kill('SIGKILL');
    const after = [`after the server died ${randomBytes(6).toString('hex')}`, `still here ${randomBytes(6).toString('hex')}`];
    await send(a.page, after[0]!);
    await waitForMessage(b.page, after[0]!);
    await send(b.page, after[1]!);
    await waitForMessage(a.page, after[1]!);
    await a.page.getByRole('status', { name: /Server: Reconnecting/ }).waitFor();

    // What each browser sent — every HTTP body, WebSocket frame and DataChannel payload — and
    // every file the server wrote, must not contain any message in the clear.
    for (const side of [a, b] as const) await collectDataChannel(side.page, side.recording);
    const recorded = [...a.recording.all(), ...b.recording.all()];
    expect(a.recording.dataChannel.length).toBeGreaterThanOrEqual(3); // channel binding + two messages
    expect(a.recording.wsFrames.some((f) => f.includes('"offer"'))).toBe(true);
    const files = filesUnder(server.dataDir).map((f) => readFileSync(f).toString('latin1'));
    expect(files.length).toBeGreaterThan(0);
    for (const secret of [...secrets, ...after]) {
      for (const item of recorded) expect(item).not.toContain(secret);
      for (const item of recorded) expect(item).not.toContain(Buffer.from(secret).toString('base64'));
      for (const content of files) expect(content).not.toContain(secret);
      expect(await messagesText(a.page)).toContain(secret);
      expect(await messagesText(b.page)).toContain(secret);
    }
  });
});
