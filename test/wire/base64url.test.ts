import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBase64url, encodeBase64url } from '../../src/wire/base64url.ts';
import { utf8 } from '../../src/crypto/bytes.ts';

describe('base64url (RFC 4648 §5, unpadded)', () => {
  it('matches the RFC 4648 §10 test vectors', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(encodeBase64url(utf8(plain))).toBe(encoded);
      expect(decodeBase64url(encoded)).toEqual(utf8(plain));
    }
  });

  it('uses the URL-safe alphabet and agrees with Node', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
        expect(decodeBase64url(text)).toEqual(bytes);
      }),
    );
  });

  it('refuses padding, other alphabets and non-canonical trailing bits', () => {
    expect(decodeBase64url('Zg==')).toBeUndefined();
    expect(decodeBase64url('Zm+v')).toBeUndefined();
    expect(decodeBase64url('Zm/v')).toBeUndefined();
    expect(decodeBase64url('Zh')).toBeUndefined(); // 'h' leaves non-zero slack bits
    expect(decodeBase64url('Z')).toBeUndefined();
    expect(decodeBase64url('Zm9v\n')).toBeUndefined();
    expect(decodeBase64url('Zé')).toBeUndefined();
  });
});
