import { describe, expect, it } from 'vitest';
import { deviceEntryOf, firstDeviceList, nextDeviceList, verifyDeviceListChain, type SignedDeviceList } from '../../src/protocol/device-list.ts';
import { decodeDeviceList, encodeDeviceList, DeviceListFormatError, MAX_DEVICES } from '../../src/wire/device-list.ts';
import { sign } from '../../src/crypto/ecdsa.ts';
import { sha256 } from '../../src/crypto/sha.ts';
import { randomIdentity } from '../support/protocol.ts';

const bytesOf = (l: SignedDeviceList) => ({ body: l.body, signature: l.signature });

async function accountWithTwo() {
  const ak = await randomIdentity();
  const laptop = await randomIdentity();
  const v1 = await firstDeviceList(ak);
  const v2 = await nextDeviceList(v1, [...v1.list.devices, deviceEntryOf('laptop', laptop)], { id: '1', identity: ak });
  return { ak, laptop, v1, v2 };
}

describe('device list', () => {
  it('encodes to bytes that decode to the same list, and nothing else decodes', async () => {
    const { v2 } = await accountWithTwo();
    const again = decodeDeviceList(v2.body);
    expect(encodeDeviceList(again)).toEqual(v2.body);
    expect(again.devices.map((d) => d.id)).toEqual(['1', 'laptop']);
    expect(() => decodeDeviceList(v2.body.subarray(0, v2.body.length - 1))).toThrow(DeviceListFormatError);
    expect(() => decodeDeviceList(new Uint8Array([...v2.body, 0]))).toThrow(/trailing/);
    const twice = { ...again, devices: [again.devices[0]!, again.devices[0]!] };
    expect(() => encodeDeviceList(twice)).toThrow(/twice/);
    const eleven = { ...again, devices: Array.from({ length: MAX_DEVICES + 1 }, (_, i) => ({ ...again.devices[0]!, id: `d${i}` })) };
    expect(() => encodeDeviceList(eleven)).toThrow(/1 to 10/);
  });

  it('verifies a chain from version 1 under the account key, device by device', async () => {
    const { ak, v1, v2 } = await accountWithTwo();
    const verdict = await verifyDeviceListChain(ak.signing.publicRaw, [bytesOf(v1), bytesOf(v2)]);
    expect(verdict.ok && verdict.latest.list.version).toBe(2);
    expect(verdict.ok && verdict.latest.list.devices.map((d) => d.id)).toEqual(['1', 'laptop']);
  });

  // No browser is primary: any device of a version may sign the next.
  it('lets any listed browser sign the next version, and unlinking removes a browser for good', async () => {
    const { ak, laptop, v1, v2 } = await accountWithTwo();
    const v3 = await nextDeviceList(v2, v2.list.devices.filter((d) => d.id === 'laptop'), { id: 'laptop', identity: laptop });
    const verdict = await verifyDeviceListChain(ak.signing.publicRaw, [v1, v2, v3].map(bytesOf));
    expect(verdict.ok && verdict.latest.list.devices.map((d) => d.id)).toEqual(['laptop']);
    // Device 1 is no longer in version 3, so it cannot sign version 4.
    await expect(nextDeviceList(v3, v2.list.devices, { id: '1', identity: ak })).rejects.toThrow(/only a device/);
  });

  it('refuses a device the server adds: a version signed by a key outside the list', async () => {
    const { ak, v1, v2 } = await accountWithTwo();
    const ghost = await randomIdentity();
    // The server signs a version 3 with a key of its own, naming itself as signer.
    const forged = decodeDeviceList(v2.body);
    const body = encodeDeviceList({ ...forged, version: 3, previous: v2.hash, signer: 'ghost', devices: [...forged.devices, deviceEntryOf('ghost', ghost)] });
    const verdict = await verifyDeviceListChain(ak.signing.publicRaw, [bytesOf(v1), bytesOf(v2), { body, signature: await sign(ghost.signing.privateKey, body) }]);
    expect(verdict).toMatchObject({ ok: false, reason: 'invalid' });
    // Or claims a listed signer but cannot sign as it.
    const claimed = encodeDeviceList({ ...forged, version: 3, previous: v2.hash, signer: 'laptop', devices: [...forged.devices, deviceEntryOf('ghost', ghost)] });
    const v = await verifyDeviceListChain(ak.signing.publicRaw, [bytesOf(v1), bytesOf(v2), { body: claimed, signature: await sign(ghost.signing.privateKey, claimed) }]);
    expect(v).toMatchObject({ ok: false, reason: 'invalid' });
    // A ghost in a version 1 that AK never signed.
    const alone = encodeDeviceList({ ...decodeDeviceList(v1.body), devices: [...v1.list.devices, deviceEntryOf('ghost', ghost)] });
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [{ body: alone, signature: v1.signature }])).toMatchObject({ ok: false, reason: 'invalid' });
  });

  it('refuses a device whose DH key its own signing key did not sign', async () => {
    const { ak, laptop, v1 } = await accountWithTwo();
    const other = await randomIdentity();
    const swapped = { ...deviceEntryOf('laptop', laptop), dhKey: other.dh.publicRaw };
    const v2 = await nextDeviceList(v1, [...v1.list.devices, swapped], { id: '1', identity: ak });
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [bytesOf(v1), bytesOf(v2)])).toMatchObject({ ok: false, reason: 'invalid', detail: expect.stringMatching(/laptop/) });
  });

  it('refuses an older list once a newer one is pinned, and another list at a pinned version', async () => {
    const { ak, laptop, v1, v2 } = await accountWithTwo();
    const pin = { version: 2, hash: v2.hash };
    // The server replays version 1, which still had only one browser, or stops the chain early.
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [bytesOf(v1)], pin)).toEqual({ ok: false, reason: 'stale' });
    // A second version 2 (say, from a browser that was unlinked and still held a key).
    const other = await nextDeviceList(v1, [...v1.list.devices, deviceEntryOf('tablet', laptop)], { id: '1', identity: ak });
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [bytesOf(v1), bytesOf(other)], pin)).toEqual({ ok: false, reason: 'fork' });
    // The pinned chain itself, and a newer version on top of it, pass.
    const v3 = await nextDeviceList(v2, [v2.list.devices[1]!], { id: 'laptop', identity: laptop });
    const next = await verifyDeviceListChain(ak.signing.publicRaw, [v1, v2, v3].map(bytesOf), pin);
    expect(next.ok && next.latest.list.version).toBe(3);
    expect(next.ok && Array.from(next.latest.hash)).toEqual(Array.from(await sha256(v3.body)));
  });

  it('calls a list for another account key a new identity, and a broken sequence invalid', async () => {
    const { ak, v1, v2 } = await accountWithTwo();
    const stranger = await randomIdentity();
    expect(await verifyDeviceListChain(stranger.signing.publicRaw, [bytesOf(v1)])).toEqual({ ok: false, reason: 'other_account' });
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [bytesOf(v2)])).toMatchObject({ ok: false, reason: 'invalid' });
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [])).toMatchObject({ ok: false, reason: 'invalid' });
    const junk = new Uint8Array(v1.body);
    junk[5]! ^= 1;
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [{ body: junk, signature: v1.signature }])).toMatchObject({ ok: false, reason: 'invalid' });
    const flipped = new Uint8Array(v1.signature);
    flipped[0]! ^= 1;
    expect(await verifyDeviceListChain(ak.signing.publicRaw, [{ body: v1.body, signature: flipped }])).toMatchObject({ ok: false, reason: 'invalid' });
  });
});
