// Several browsers per account (issue #17): `npm run bench:devices`. Debian's Chromium, the
// built server, everything on this machine, in one run:
//  1. Linking with history: Alice's first browser holds DAYS × PER_DAY texts with Bob (written
//     into its IndexedDB, spread over the last DAYS days). From the click on "Link <name>" (the
//     confirmation) to the new browser showing the conversation with Bob in its list: the list
//     signed and published, the history sealed, sent, polled, opened, checked and stored, the
//     browser's keys published. LINKS runs, a new browser each. Target: ≤ 5 s.
//  2. Fan-out: from the click on Send to the message's "Sent" (the server holds an envelope for
//     every browser it goes to), SENDS sends after a warm-up, median. Carol and Dave have
//     BROWSERS browsers each (one message: BROWSERS envelopes to Dave's, BROWSERS − 1 sent copies
//     to Carol's other browsers); baseline: Erin and Frank with one browser each, the same sends
//     in the same run. Neither pair are contacts, so both go through the server's queue.
//     Target: ≤ 3× the one-browser time.
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import { approveLink, openConversation, showLinkCode, send, signUp, startChat, waitConnected, waitForMessage } from '../e2e/support/app.ts';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/support/browser.ts';
import { startServerProcess } from '../e2e/support/server-process.ts';

const DAYS = Number(process.env.DAYS ?? 30);
const PER_DAY = Number(process.env.PER_DAY ?? 100);
const LINKS = Number(process.env.LINKS ?? 3);
const BROWSERS = Number(process.env.BROWSERS ?? 5);
const SENDS = Number(process.env.SENDS ?? 9);

const name = (p: string) => `${p}_${randomBytes(3).toString('hex')}`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function newPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  return context.newPage();
}

/** Writes `count` texts with `peer` into this page's own IndexedDB history, as if exchanged over `days` days. */
async function seedHistory(page: Page, peer: string, count: number, days: number): Promise<void> {
  await page.evaluate(
    async ({ peer, count, days }) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('parley');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      const userId = await new Promise<string>((resolve) => {
        const keys = db.transaction('identity').objectStore('identity').getAllKeys();
        keys.onsuccess = () => resolve(String(keys.result[0]));
      });
      const now = Date.now();
      const span = days * 86_400_000 - 60_000;
      const tx = db.transaction(['messages', 'conversations'], 'readwrite');
      const messages = tx.objectStore('messages');
      let last = { at: 0, text: '', direction: 'out' as 'in' | 'out' };
      for (let i = 0; i < count; i++) {
        const at = now - span + Math.floor((span * i) / count);
        const direction = i % 2 ? 'in' : 'out';
        const text = `history message ${i}: the quick brown fox jumps over the lazy dog`;
        const id = `seed${String(i).padStart(18, '0')}`;
        messages.put(direction === 'out' ? { id, peer, direction, text, at, seq: i, state: 'read' } : { id, peer, direction, text, at, seq: i, read: true }, [userId, peer, id]);
        last = { at, text, direction };
      }
      tx.objectStore('conversations').put({ peer, lastAt: last.at, lastText: last.text, lastDirection: last.direction, unread: 0, nextSeq: count }, [userId, peer]);
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error);
      });
    },
    { peer, count, days },
  );
}

/** A new browser of `user`, linked by `from`; returns it and the time from the confirming click to its conversation list naming `peer`. */
async function link(browser: Browser, url: string, user: string, from: Page, peer?: string): Promise<{ page: Page; ms: number }> {
  const page = await newPage(browser);
  let started = 0;
  await approveLink(from, await showLinkCode(page, url, user), { confirming: () => (started = performance.now()) });
  if (peer) await page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: peer, exact: true }).waitFor({ timeout: 60_000 });
  else await waitConnected(page);
  const ms = performance.now() - started;
  await waitConnected(page);
  return { page, ms };
}

// In the page, as text: tsx would wrap a named function in a helper the page does not have.
// Resolves with the time from the click on Send to the bubble with `text` leaving "Sending…".
const SENT_WATCH = `(text) => new Promise((resolve) => {
  let started = 0;
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Send');
  button.addEventListener('click', () => { started = performance.now(); }, { capture: true, once: true });
  const observer = new MutationObserver(() => {
    const mine = [...document.querySelectorAll('.bubble-me')].find((b) => b.textContent.includes(text));
    const state = mine && mine.querySelector('.delivery') && mine.querySelector('.delivery').textContent;
    if (started && state && state !== 'Sending…') {
      observer.disconnect();
      resolve(performance.now() - started);
    }
  });
  observer.observe(document.body, { subtree: true, childList: true, characterData: true });
})`;

/** Click on Send → the last own bubble leaves "Sending…", measured in the page. */
async function timedSend(page: Page, text: string): Promise<number> {
  const box = page.getByRole('textbox', { name: 'Message', exact: true });
  await box.fill(text);
  const waiting = page.evaluate(`(${SENT_WATCH})(${JSON.stringify(text)})`) as Promise<number>;
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  return waiting;
}

async function main(): Promise<void> {
  const server = await startServerProcess();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    // 1. Linking with history.
    const [alice, bob] = [name('alice'), name('bob')];
    const first = await newPage(browser);
    await signUp(first, server.url, alice);
    const bobPage = await newPage(browser);
    await signUp(bobPage, server.url, bob);
    await startChat(first, bob);
    const count = DAYS * PER_DAY;
    await seedHistory(first, bob, count, DAYS);
    await first.reload();
    await waitConnected(first);
    const linking: number[] = [];
    for (let i = 0; i < LINKS; i++) {
      const { page, ms } = await link(browser, server.url, alice, first, bob);
      linking.push(ms);
      await openConversation(page, bob);
      await page.getByRole('log', { name: 'Messages' }).getByText(`history message ${count - 1}:`, { exact: false }).waitFor();
      await page.context().close();
    }

    // 2. Fan-out: five browsers each side against one each.
    const [carol, dave, erin, frank] = [name('carol'), name('dave'), name('erin'), name('frank')];
    const pages: Record<string, Page> = {};
    for (const who of [carol, dave, erin, frank]) {
      pages[who] = await newPage(browser);
      await signUp(pages[who], server.url, who);
    }
    const carolOthers: Page[] = [];
    const daveOthers: Page[] = [];
    for (let i = 1; i < BROWSERS; i++) {
      carolOthers.push((await link(browser, server.url, carol, pages[carol]!)).page);
      daveOthers.push((await link(browser, server.url, dave, pages[dave]!)).page);
    }
    // A first message each way starts the sessions (prekey messages), which the timed sends leave out.
    const pair = async (from: string, to: string): Promise<void> => {
      await startChat(pages[from]!, to);
      await send(pages[from]!, `warm-up ${from}`);
      await startChat(pages[to]!, from);
      await waitForMessage(pages[to]!, `warm-up ${from}`);
      await send(pages[to]!, `warm-up back ${to}`);
      await waitForMessage(pages[from]!, `warm-up back ${to}`);
    };
    await pair(carol, dave);
    await pair(erin, frank);
    const many: number[] = [];
    const one: number[] = [];
    for (let i = 0; i < SENDS; i++) {
      // Alternating, so that drift in the machine's load falls on both alike.
      many.push(await timedSend(pages[carol]!, `fan-out ${i} ${randomBytes(3).toString('hex')}`));
      one.push(await timedSend(pages[erin]!, `one-to-one ${i} ${randomBytes(3).toString('hex')}`));
    }

    const linkMs = median(linking);
    const ratio = median(many) / median(one);
    console.log(`\nbench:devices — ${new Date().toISOString()}`);
    console.log(`\n1. Linking with ${count} messages of history (${DAYS} days × ${PER_DAY}), ${LINKS} runs`);
    console.log('| from "Link <name>" to the new browser listing the conversation | runs | target |');
    console.log('| --- | --- | --- |');
    console.log(`| ${Math.round(linkMs)} ms (median) | ${linking.map((x) => Math.round(x)).join(', ')} ms | ≤ 5000 ms: ${linkMs <= 5000 ? 'met' : 'missed'} |`);
    console.log(`\n2. Fan-out, Send → "Sent", median of ${SENDS}`);
    console.log(`| one browser each (baseline) | ${BROWSERS} browsers each | ratio | target |`);
    console.log('| --- | --- | --- | --- |');
    console.log(`| ${median(one).toFixed(1)} ms | ${median(many).toFixed(1)} ms | ${ratio.toFixed(2)}× | ≤ 3×: ${ratio <= 3 ? 'met' : 'missed'} |`);
    console.log(`(one each: ${one.map((x) => x.toFixed(0)).join(', ')} ms; ${BROWSERS} each: ${many.map((x) => x.toFixed(0)).join(', ')} ms)`);
  } finally {
    await browser.close();
    await server.kill();
  }
}

await main();
