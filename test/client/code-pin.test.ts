// Why a browser cannot pin Parley's code, from the error its service worker registration gave:
// what About tells the person depends on it, and a passing network failure must not read as a
// refusal that will never change.
import { describe, expect, it } from 'vitest';
import { shortCodeHash, unpinnableBy } from '../../src/client/messaging/code-pin.ts';

describe('unpinnableBy', () => {
  it("names the certificate only when the browser's refusal is about it", () => {
    // Chromium's words for a page whose certificate it warned about.
    expect(unpinnableBy(new DOMException('Failed to register a ServiceWorker: An SSL certificate error occurred when fetching the script.', 'SecurityError'))).toBe('certificate');
    // Firefox with cookies blocked or history off; a server answering sw.js with a login page.
    expect(unpinnableBy(new DOMException('The operation is insecure.', 'SecurityError'))).toBe('blocked');
    expect(unpinnableBy(new DOMException("The script has an unsupported MIME type ('text/html').", 'SecurityError'))).toBe('blocked');
    expect(unpinnableBy(new DOMException('Failed to register a ServiceWorker: The user denied permission to use Service Worker.', 'NotSupportedError'))).toBe('blocked');
  });

  it('leaves a failure that may pass (the network, an abort) unexplained, to be tried on the next load', () => {
    expect(unpinnableBy(new TypeError('Failed to fetch'))).toBeUndefined();
    expect(unpinnableBy(new DOMException('aborted', 'AbortError'))).toBeUndefined();
    expect(unpinnableBy('nonsense')).toBeUndefined();
  });

  it('shows a code hash as six groups of four hex digits', () => {
    expect(shortCodeHash('0123456789abcdef0123456789abcdef')).toBe('0123 4567 89ab cdef 0123 4567');
  });
});
