import { describe, expect, it } from 'vitest';
import { ecdh, generateEcdhKeyPair, importEcdhPublic } from '../../src/crypto/ecdh.ts';
import { generateSigningKeyPair, importVerifyKey, sign, verify } from '../../src/crypto/ecdsa.ts';
import { utf8 } from '../../src/crypto/bytes.ts';

describe('ECDH P-256', () => {
  it('gives both sides the same 32-byte secret, and a third party a different one', async () => {
    const a = await generateEcdhKeyPair();
    const b = await generateEcdhKeyPair();
    const c = await generateEcdhKeyPair();
    const ab = await ecdh(a.privateKey, await importEcdhPublic(b.publicRaw));
    const ba = await ecdh(b.privateKey, await importEcdhPublic(a.publicRaw));
    const ac = await ecdh(a.privateKey, await importEcdhPublic(c.publicRaw));
    expect(ab).toHaveLength(32);
    expect(ab).toEqual(ba);
    expect(ab).not.toEqual(ac);
  });

  it('makes private keys that cannot be exported', async () => {
    const a = await generateEcdhKeyPair();
    expect(a.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', a.privateKey)).rejects.toThrow();
    expect(a.publicRaw).toHaveLength(65);
    expect(a.publicRaw[0]).toBe(4);
  });

  it('refuses points that are not on the curve', async () => {
    const bad = new Uint8Array(65);
    bad[0] = 4;
    bad[1] = 1;
    await expect(importEcdhPublic(bad)).rejects.toThrow();
    await expect(importEcdhPublic(new Uint8Array(33))).rejects.toThrow(TypeError);
  });
});

describe('ECDSA P-256', () => {
  it('verifies its own signatures and nothing else', async () => {
    const k = await generateSigningKeyPair();
    const other = await generateSigningKeyPair();
    const sig = await sign(k.privateKey, utf8('message'));
    expect(sig).toHaveLength(64);
    const pub = await importVerifyKey(k.publicRaw);
    expect(await verify(pub, sig, utf8('message'))).toBe(true);
    expect(await verify(pub, sig, utf8('messagE'))).toBe(false);
    expect(await verify(await importVerifyKey(other.publicRaw), sig, utf8('message'))).toBe(false);
    expect(await verify(pub, sig.subarray(0, 63), utf8('message'))).toBe(false);
    expect(await verify(pub, new Uint8Array(64), utf8('message'))).toBe(false);
  });
});
