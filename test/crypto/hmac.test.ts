import { describe, expect, it } from 'vitest';
import { hmacSha256, hmacSha256EachSync } from '../../src/crypto/hmac.ts';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import vectors from '../vectors/rfc4231-hmac-sha256.json' with { type: 'json' };

describe('HMAC-SHA-256 (RFC 4231)', () => {
  for (const v of vectors.cases) {
    it(`Web Crypto matches ${v.name}`, async () => {
      expect(toHex(await hmacSha256(fromHex(v.key), fromHex(v.data)))).toBe(v.mac);
    });
    it(`the synchronous path matches ${v.name}`, () => {
      expect(hmacSha256EachSync(fromHex(v.key), [fromHex(v.data)]).map(toHex)).toEqual([v.mac]);
    });
  }

  it('gives each of several messages under one key the MAC Web Crypto gives it alone', async () => {
    for (let i = 0; i < 20; i++) {
      const key = webRandom(32);
      const messages = [webRandom(1), webRandom(0), webRandom(100), webRandom(64)];
      const sync = hmacSha256EachSync(key, messages);
      expect(sync.map(toHex)).toEqual(await Promise.all(messages.map(async (m) => toHex(await hmacSha256(key, m)))));
    }
  });
});
