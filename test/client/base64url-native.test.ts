// The platform's base64 decoder (Uint8Array.fromBase64, in Chromium) stands in for ours where it
// exists: it must accept and refuse exactly what ours does. Runs in Node (our decoder alone) and
// in Chromium (both), in the unit and browser suites.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBase64url, decodeBase64urlPortable, encodeBase64url } from '../../src/wire/base64url.ts';

const native = typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64 === 'function';

describe(`base64url decoding (${native ? 'native and portable' : 'portable only: this platform has no Uint8Array.fromBase64'})`, () => {
  it('decodes every encoding as the portable decoder does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(decodeBase64url(text)).toEqual(bytes);
        expect(decodeBase64urlPortable(text)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses exactly what the portable decoder refuses', () => {
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \né'.split('');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { maxLength: 12 }), (cs) => {
        const text = cs.join('');
        expect(decodeBase64url(text)).toEqual(decodeBase64urlPortable(text));
      }),
      { numRuns: 3000 },
    );
    for (const bad of ['Zg==', 'Zm+v', 'Zm/v', 'Zh', 'Z', 'Zm9v\n', 'Zé', ' Zm9v', 'Zm9=']) expect(decodeBase64url(bad)).toBeUndefined();
  });
});
