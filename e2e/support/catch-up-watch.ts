// Watches a page catching up on its queue, from before Parley runs: when the socket said
// "Connected", when the conversation list showed every expected conversation with its unread
// count (read from the store, so every message decrypted and stored), every long task
// (PerformanceObserver 'longtask') and every text the progress line showed.
import type { Page } from 'playwright-core';

export interface CatchUpWatch {
  connectedAt?: number;
  doneAt?: number;
  longTasks: Array<{ start: number; duration: number }>;
  progress: string[];
}

// A string, as tsx would otherwise wrap the inner functions in a helper the page does not have.
const WATCH = `(expected) => {
  const w = { longTasks: [], progress: [] };
  window.__catchUp = w;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) w.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  new MutationObserver(() => {
    if (w.connectedAt === undefined && document.querySelector('[aria-label="Server: Connected"]')) w.connectedAt = performance.now();
    for (const e of document.querySelectorAll('.catch-up span')) if (w.progress.at(-1) !== e.textContent) w.progress.push(e.textContent);
    if (w.connectedAt === undefined || w.doneAt !== undefined) return;
    const list = document.querySelector('[aria-label="Conversations"]');
    const text = list ? list.textContent : '';
    if (expected.every((e) => text.includes(e.name) && text.includes(e.unread + ' unread'))) w.doneAt = performance.now();
  }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
}`;

/** Call before the page loads Parley; read the result with `catchUpWatch`. */
export async function watchCatchUp(page: Page, expected: Array<{ name: string; unread: number }>): Promise<void> {
  await page.addInitScript({ content: `(${WATCH})(${JSON.stringify(expected)})` });
}

/** Waits until the list is complete, then returns what was seen. */
export async function catchUpWatch(page: Page, timeout = 120_000): Promise<CatchUpWatch> {
  await page.waitForFunction(() => (window as unknown as { __catchUp: CatchUpWatch }).__catchUp.doneAt !== undefined, undefined, { timeout, polling: 200 });
  await page.waitForTimeout(300); // a long task is reported after it ends
  return page.evaluate(() => (window as unknown as { __catchUp: CatchUpWatch }).__catchUp);
}
