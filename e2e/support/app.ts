// The user's moves in Parley, through the accessible names the UI promises to keep.
import type { Page } from 'playwright-core';

export async function signUp(page: Page, url: string, username: string, password = 'correct horse battery'): Promise<void> {
  await page.goto(url);
  const form = page.getByRole('form', { name: 'Sign up' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Sign up' }).click();
  await waitConnected(page);
}

/**
 * Logs in. A browser that holds no keys for the account is asked to link to another browser or
 * to start with new keys (issue #17): `newKeys` (the default) starts with new keys, as a browser
 * without keys did before; `link` stops at that choice.
 */
export async function logIn(page: Page, url: string, username: string, password = 'correct horse battery', keys: 'newKeys' | 'link' = 'newKeys'): Promise<void> {
  await page.goto(url);
  await page.getByRole('tab', { name: 'Log in' }).click();
  const form = page.getByRole('form', { name: 'Log in' });
  await form.getByLabel('Username').fill(username);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Log in' }).click();
  const connected = page.getByRole('status', { name: 'Server: Connected' });
  const choice = page.getByRole('button', { name: 'Start with new keys' });
  await connected.or(choice).first().waitFor({ timeout: 30_000 });
  if (await choice.isVisible()) {
    if (keys === 'link') return;
    await choice.click();
  } else if (keys === 'link') {
    throw new Error('this browser already holds keys for the account');
  }
  await waitConnected(page);
}

export async function logOut(page: Page, choice: 'keep' | 'wipe' = 'keep'): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: choice === 'keep' ? 'Keep history on this browser' : 'Wipe this browser' }).click();
  await page.getByRole('form', { name: 'Sign up' }).or(page.getByRole('form', { name: 'Log in' })).waitFor();
}

export async function waitConnected(page: Page): Promise<void> {
  await page.getByRole('status', { name: 'Server: Connected' }).waitFor({ timeout: 30_000 });
}

/** "New chat": opens the conversation with `peer`; nothing rings. */
export async function startChat(page: Page, peer: string): Promise<void> {
  const form = page.getByRole('form', { name: 'New chat' });
  await form.getByLabel('Username').fill(peer);
  await form.getByRole('button', { name: 'Start chat' }).click();
  await page.getByRole('region', { name: `Chat with ${peer}` }).waitFor({ timeout: 30_000 });
}

/** Adds `who` to the page's contacts (the Contacts tab), then goes back to the chats. */
export async function addContact(page: Page, who: string): Promise<void> {
  await page.getByRole('tab', { name: 'Contacts' }).click();
  const form = page.getByRole('form', { name: 'Add contact' });
  await form.getByLabel('Contact username').fill(who);
  await form.getByRole('button', { name: 'Add contact' }).click();
  await page.getByRole('list', { name: 'Contacts' }).getByRole('button', { name: who, exact: true }).waitFor();
  await page.getByRole('tab', { name: 'Chats' }).click();
}

/** Two people add each other: a direct channel between them is then set up in the background. */
export async function befriend(a: Page, aName: string, b: Page, bName: string): Promise<void> {
  await addContact(a, bName);
  await addContact(b, aName);
}

/** Mutual contacts: `a` opens the chat with `b` and the direct channel comes up on both sides. */
export async function chatDirect(a: Page, aName: string, b: Page, bName: string): Promise<void> {
  await befriend(a, aName, b, bName);
  await startChat(a, bName);
  await waitDirect(a);
  await startChat(b, aName);
  await waitDirect(b);
}

/** `a` starts a voice or video call from the open conversation. */
export async function call(page: Page, media: 'voice' | 'video'): Promise<void> {
  await page.getByRole('button', { name: media === 'video' ? 'Video call' : 'Voice call', exact: true }).click();
}

export async function accept(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Accept', exact: true }).click({ timeout: 30_000 });
}

/** The message field is there and enabled: a conversation is open and nothing blocks sending. */
export async function waitChatOpen(page: Page): Promise<void> {
  await page.getByRole('textbox', { name: 'Message', exact: true, disabled: false }).waitFor({ timeout: 30_000 });
}

/** The call's direct channel is open and bound. */
export async function waitDirect(page: Page): Promise<void> {
  try {
    await page.getByRole('status').filter({ hasText: 'End-to-end encrypted · direct' }).waitFor({ timeout: 30_000 });
  } catch (e) {
    const status = await page.locator('.chat-status').textContent().catch(() => '(no chat)');
    const log = await page.getByRole('log', { name: 'Messages' }).textContent().catch(() => '(no log)');
    throw new Error(`no direct channel: status "${status}", log "${log}"`, { cause: e });
  }
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message', exact: true }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

export async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.getByRole('log', { name: 'Messages' }).getByText(text, { exact: true }).waitFor({ timeout: 30_000 });
}

export async function messagesText(page: Page): Promise<string> {
  return (await page.getByRole('log', { name: 'Messages' }).textContent()) ?? '';
}

/** The texts of the message bubbles in the log, in display order. */
export async function bubbleTexts(page: Page): Promise<string[]> {
  return page.getByRole('log', { name: 'Messages' }).locator('.bubble-text').allTextContents();
}

/** Opens the safety number panel and returns its 60 digits. */
export async function readSafetyNumber(page: Page): Promise<string> {
  const panel = page.getByLabel('Safety number', { exact: true });
  if (!(await panel.isVisible())) await page.getByRole('button', { name: 'Safety number', exact: true }).click();
  await panel.waitFor();
  return ((await panel.textContent()) ?? '').replace(/\D/g, '');
}

/** `a` ends the call; `b`'s call panel goes away. */
export async function endCall(a: Page, b: Page, peerOfB: string): Promise<void> {
  await a.getByRole('button', { name: 'End call' }).click();
  await b.getByRole('region', { name: `Call with ${peerOfB}` }).waitFor({ state: 'detached', timeout: 15_000 });
}

export async function openConversation(page: Page, peer: string): Promise<void> {
  await page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: peer, exact: true }).click();
}

/** In a browser without keys, "Link to another browser": returns the link code it shows. */
export async function showLinkCode(p: Page, url: string, username: string): Promise<string> {
  await logIn(p, url, username, undefined, 'link');
  await p.getByRole('button', { name: 'Link to another browser' }).click();
  const code = p.getByRole('status', { name: 'Link code', exact: true });
  await code.waitFor();
  return (await code.textContent())!.trim();
}

/**
 * In a linked browser: "Link a new browser", the code, then the confirmation naming the new
 * browser (issue #17). `confirming` runs just before the confirming click (benchmarks time from it).
 */
export async function approveLink(p: Page, code: string, options: { history?: boolean; name?: string; confirming?: () => void } = {}): Promise<void> {
  await p.getByRole('button', { name: 'Link a new browser' }).click();
  const form = p.getByRole('form', { name: 'Link a new browser' });
  await form.getByLabel('Link code').fill(code);
  await form.getByRole('button', { name: 'Link' }).click();
  const confirm = p.getByRole('form', { name: 'Confirm the new browser' });
  await confirm.or(form.getByRole('alert')).first().waitFor();
  // A refused code says why; the caller should too.
  if (!(await confirm.isVisible())) throw new Error(`the link code was refused: ${await form.getByRole('alert').textContent()}`);
  const field = confirm.getByLabel('Browser name');
  for (let i = 0; (await field.inputValue()) !== 'Chromium on Linux'; i++) {
    if (i === 50) throw new Error(`the new browser was not named "Chromium on Linux" but "${await field.inputValue()}"`);
    await p.waitForTimeout(100);
  }
  if (options.name) await field.fill(options.name);
  if (options.history === false) await confirm.getByLabel('Copy the last 30 days of messages').uncheck();
  options.confirming?.();
  await confirm.getByRole('button', { name: /^Link / }).click();
  await confirm.waitFor({ state: 'detached' });
}
