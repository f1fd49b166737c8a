import { describe, expect, it } from 'vitest';
import { generateEcdhKeyPair } from '../../src/crypto/ecdh.ts';
import { utf8, fromUtf8 } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { deviceEntryOf } from '../../src/protocol/device-list.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';
import { checkLinkRequest, formatLinkCode, linkRequestTag, openLinkTransfer, parseLinkCode, sealLinkTransfer, LINK_SECRET_BYTES } from '../../src/protocol/link-code.ts';
import { randomIdentity } from '../support/protocol.ts';

async function request() {
  const code = { linkId: 'AAAAAAAAAAAAAAAAAAAAAA', secret: webRandom(LINK_SECRET_BYTES) };
  const ephemeral = await generateEcdhKeyPair();
  const device = deviceEntryOf('laptop', await randomIdentity());
  return { code, ephemeral, device, tag: await linkRequestTag(code, ephemeral.publicRaw, device) };
}

describe('link code', () => {
  it('reads back what it writes, and nothing malformed', () => {
    const code = { linkId: 'abcdefghijklmnop_-12', secret: webRandom(LINK_SECRET_BYTES) };
    const text = formatLinkCode(code);
    expect(parseLinkCode(`  ${text}\n`)).toEqual(code);
    expect(parseLinkCode(text.slice(0, -1))).toBeUndefined();
    expect(parseLinkCode(`${text}.x`)).toBeUndefined();
    expect(parseLinkCode('short.AAAAAAAAAAAAAAAAAAAAAA')).toBeUndefined();
    expect(parseLinkCode('')).toBeUndefined();
  });

  it('accepts the request the code was made for', async () => {
    const r = await request();
    await expect(checkLinkRequest(r.code, { ephemeral: r.ephemeral.publicRaw, device: r.device, tag: r.tag })).resolves.toBeUndefined();
  });

  it('catches a server that swaps the ephemeral key or the device keys', async () => {
    const r = await request();
    const swapped = await generateEcdhKeyPair();
    const err = await checkLinkRequest(r.code, { ephemeral: swapped.publicRaw, device: r.device, tag: r.tag }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe('link_mismatch');
    const ghost = deviceEntryOf('laptop', await randomIdentity());
    await expect(checkLinkRequest(r.code, { ephemeral: r.ephemeral.publicRaw, device: ghost, tag: r.tag })).rejects.toThrow(/altered/);
    // The server cannot make a tag of its own without the secret.
    const serverCode = { ...r.code, secret: webRandom(LINK_SECRET_BYTES) };
    const forged = await linkRequestTag(serverCode, swapped.publicRaw, r.device);
    await expect(checkLinkRequest(r.code, { ephemeral: swapped.publicRaw, device: r.device, tag: forged })).rejects.toThrow(ProtocolError);
  });

  it('seals the transfer so that only the browser holding the code and its key opens it', async () => {
    const r = await request();
    const old = await generateEcdhKeyPair();
    const sealed = await sealLinkTransfer(r.code, old, r.ephemeral.publicRaw, utf8('contacts and history'), webRandom);
    expect(fromUtf8(await openLinkTransfer(r.code, r.ephemeral, sealed))).toBe('contacts and history');
    // Another code (the server's guess at the secret) or another key: refused, not garbled.
    await expect(openLinkTransfer({ ...r.code, secret: webRandom(LINK_SECRET_BYTES) }, r.ephemeral, sealed)).rejects.toThrow(/not made for this link code/);
    await expect(openLinkTransfer(r.code, await generateEcdhKeyPair(), sealed)).rejects.toThrow(ProtocolError);
    // A server that answers with its own ephemeral key cannot produce a valid seal.
    const server = await generateEcdhKeyPair();
    const forged = await sealLinkTransfer({ ...r.code, secret: webRandom(LINK_SECRET_BYTES) }, server, r.ephemeral.publicRaw, utf8('evil'), webRandom);
    await expect(openLinkTransfer(r.code, r.ephemeral, forged)).rejects.toThrow(ProtocolError);
    await expect(openLinkTransfer(r.code, r.ephemeral, sealed.subarray(0, 40))).rejects.toThrow(/cut short/);
  });
});
