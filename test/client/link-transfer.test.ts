// What a browser being linked receives of the history (issue #17): texts with a group member's
// name, and lines ("bob linked a new browser") as lines, placed by time; the answer from either
// version reads in the other, and anything malformed in these fields refuses the whole answer.
import { describe, expect, it } from 'vitest';
import { parseTransfer, transferMessage, type LinkTransfer } from '../../src/client/messaging/device-linking.ts';

const account = 'B' + 'A'.repeat(86); // 65 bytes in base64url
const answer = (messages: unknown[]): string =>
  JSON.stringify({ v: 1, account, contacts: [], conversations: [], messages, settings: { readReceipts: true } } satisfies Omit<LinkTransfer, 'messages'> & { messages: unknown[] });

describe('link answer history', () => {
  it('carries a line as a line, and a group message with its sender', () => {
    const line = transferMessage({ peer: 'bob', id: 'line-1', direction: 'in', text: 'bob linked a new browser.', at: 5, seq: 0, read: true, event: true });
    const grouped = transferMessage({ peer: 'g:abc', id: 'm1', direction: 'in', text: 'hi all', at: 6, seq: 3, read: false, from: 'carol' });
    const plain = transferMessage({ peer: 'bob', id: 'm2', direction: 'out', text: 'hello', at: 7, seq: 1 });
    expect(line).toEqual({ peer: 'bob', id: 'line-1', direction: 'in', text: 'bob linked a new browser.', at: 5, seq: 0, read: true, event: true });
    expect(grouped).toEqual({ peer: 'g:abc', id: 'm1', direction: 'in', text: 'hi all', at: 6, seq: 3, read: false, from: 'carol' });
    expect(plain).toEqual({ peer: 'bob', id: 'm2', direction: 'out', text: 'hello', at: 7, seq: 1 });
    expect(parseTransfer(answer([line, grouped, plain])).messages).toEqual([line, grouped, plain]);
  });

  it('reads an answer from a version without these fields', () => {
    const old = { peer: 'bob', id: 'm1', direction: 'in', text: 'hi', at: 1, seq: 0, read: true };
    expect(parseTransfer(answer([old])).messages).toEqual([old]);
  });

  it('refuses a malformed sender or line mark', () => {
    const base = { peer: 'bob', id: 'm1', direction: 'in', text: 'hi', at: 1, seq: 0 };
    for (const bad of [{ ...base, from: 7 }, { ...base, from: 'x'.repeat(65) }, { ...base, event: 'yes' }, { ...base, event: false }]) {
      expect(() => parseTransfer(answer([bad]))).toThrow(/malformed/);
    }
  });
});
