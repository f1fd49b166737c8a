// Which browsers speak for an account (DESIGN.md "Several browsers per account"). Version 1 of an
// account's device list is signed by the account key AK; every later version by a device of the
// version before it, and names the hash of that version. So the server, which holds no device's
// key, can make no version at all: a device it adds is refused by every peer (property 2). A peer
// pins the newest version it has verified and its hash; an older version, or another list at a
// version it has seen, is refused (property 3). Keys in, verdicts out: no storage, no transport.
import { bytesEqual, type Bytes } from '../crypto/bytes.ts';
import { importVerifyKey, sign, verify } from '../crypto/ecdsa.ts';
import { sha256 } from '../crypto/sha.ts';
import { DeviceListFormatError, FIRST_DEVICE_ID, decodeDeviceList, encodeDeviceList, type DeviceEntry, type DeviceList } from '../wire/device-list.ts';
import { dhKeySignedData } from '../wire/signatures.ts';
import type { LocalIdentity } from './identity.ts';

/** One version as it travels: the list's exact bytes and the signer's signature over them. */
export interface SignedDeviceListBytes {
  body: Uint8Array;
  signature: Uint8Array;
}

export interface SignedDeviceList extends SignedDeviceListBytes {
  list: DeviceList;
  /** SHA-256 of `body`: what the next version names, and what a peer pins. */
  hash: Bytes;
}

/** What a peer remembers of an account's list: the newest version verified, and its hash. */
export interface DeviceListPin {
  version: number;
  hash: Uint8Array;
}

export type DeviceListVerdict =
  | { ok: true; latest: SignedDeviceList }
  /** The list is for another account key: a new identity, the blocking warning. */
  | { ok: false; reason: 'other_account' }
  /** Older than the pinned version: a replay that would hide an unlinking. */
  | { ok: false; reason: 'stale' }
  /** Another list at a version already pinned: someone made a version no device signed. */
  | { ok: false; reason: 'fork' }
  /** A signature that does not verify, a version or hash out of sequence, malformed bytes. */
  | { ok: false; reason: 'invalid'; detail: string };

const ZERO_HASH = new Uint8Array(32);

async function signed(body: Bytes, signature: Bytes): Promise<SignedDeviceList> {
  return { body, signature, list: decodeDeviceList(body), hash: await sha256(body) };
}

/** The entry for this browser, as it goes in a list: its keys and DSK's signature over DK. */
export function deviceEntryOf(id: string, identity: LocalIdentity): DeviceEntry {
  return { id, signingKey: identity.signing.publicRaw, dhKey: identity.dh.publicRaw, dhKeySignature: identity.dhKeySignature };
}

/**
 * Version 1, signed by the account key: the browser that holds AK is device "1", with AK as its
 * signing key and its DH key unchanged, which is exactly what a v1 account already published.
 */
export async function firstDeviceList(account: LocalIdentity): Promise<SignedDeviceList> {
  const list: DeviceList = {
    account: account.signing.publicRaw,
    version: 1,
    previous: ZERO_HASH,
    signer: FIRST_DEVICE_ID,
    devices: [deviceEntryOf(FIRST_DEVICE_ID, account)],
  };
  const body = encodeDeviceList(list);
  return signed(body, await sign(account.signing.privateKey, body));
}

/** The next version with `devices`, signed by `signer`, a device of `previous`. */
export async function nextDeviceList(previous: SignedDeviceList, devices: DeviceEntry[], signer: { id: string; identity: LocalIdentity }): Promise<SignedDeviceList> {
  const mine = previous.list.devices.find((d) => d.id === signer.id);
  if (!mine || !bytesEqual(mine.signingKey, signer.identity.signing.publicRaw)) {
    throw new DeviceListFormatError('only a device of the current list can sign the next one');
  }
  const list: DeviceList = { account: previous.list.account, version: previous.list.version + 1, previous: previous.hash, signer: signer.id, devices };
  const body = encodeDeviceList(list);
  return signed(body, await sign(signer.identity.signing.privateKey, body));
}

async function verifiedBy(key: Uint8Array, v: SignedDeviceListBytes): Promise<boolean> {
  try {
    return await verify(await importVerifyKey(key), v.signature, v.body);
  } catch {
    return false;
  }
}

/** Every device's DH key must be signed by its own signing key, as a v1 identity's is. */
async function devicesSelfSigned(list: DeviceList): Promise<string | undefined> {
  for (const d of list.devices) {
    if (!(await verifiedBy(d.signingKey, { body: dhKeySignedData(d.dhKey), signature: d.dhKeySignature }))) return `device ${d.id}'s DH key is not signed by its signing key`;
  }
  return undefined;
}

/**
 * Verifies an account's chain of lists (every version from 1, oldest first, as the server keeps
 * them) against the account key the peer pinned and the version it pinned, if any. Versions up
 * to the pinned one were verified when they were pinned and only need to hash to the pin.
 */
export async function verifyDeviceListChain(account: Uint8Array, chain: SignedDeviceListBytes[], pin?: DeviceListPin): Promise<DeviceListVerdict> {
  const invalid = (detail: string): DeviceListVerdict => ({ ok: false, reason: 'invalid', detail });
  if (chain.length === 0) return invalid('the account has no device list');
  let lists: SignedDeviceList[];
  try {
    lists = await Promise.all(chain.map((c) => signed(new Uint8Array(c.body), new Uint8Array(c.signature))));
  } catch (e) {
    return invalid(e instanceof DeviceListFormatError ? e.message : 'the device list is malformed');
  }
  for (const l of lists) if (!bytesEqual(l.list.account, account)) return { ok: false, reason: 'other_account' };
  for (let i = 0; i < lists.length; i++) {
    if (lists[i]!.list.version !== i + 1) return invalid(`version ${i + 1} is missing or out of order`);
  }
  const latest = lists[lists.length - 1]!;
  if (pin && latest.list.version < pin.version) return { ok: false, reason: 'stale' };
  if (pin && !bytesEqual(lists[pin.version - 1]!.hash, pin.hash)) return { ok: false, reason: 'fork' };
  const from = pin ? pin.version : 1;
  if (from === 1) {
    const first = lists[0]!;
    const signer = first.list.devices.find((d) => d.id === first.list.signer);
    if (!signer || !bytesEqual(signer.signingKey, account)) return invalid('version 1 is not signed by the account key');
    if (!(await verifiedBy(account, first))) return invalid('version 1 does not verify under the account key');
    const bad = await devicesSelfSigned(first.list);
    if (bad) return invalid(bad);
  }
  for (let i = from; i < lists.length; i++) {
    const before = lists[i - 1]!;
    const l = lists[i]!;
    if (!bytesEqual(l.list.previous, before.hash)) return invalid(`version ${l.list.version} does not follow version ${before.list.version}`);
    const signer = before.list.devices.find((d) => d.id === l.list.signer);
    if (!signer) return invalid(`version ${l.list.version} is signed by ${l.list.signer}, not a device of version ${before.list.version}`);
    if (!(await verifiedBy(signer.signingKey, l))) return invalid(`version ${l.list.version}'s signature does not verify`);
    const bad = await devicesSelfSigned(l.list);
    if (bad) return invalid(bad);
  }
  return { ok: true, latest };
}

/**
 * The list a v1 account stands for before it has published one: its one identity as device "1".
 * Peers use it for an account with no list, so nothing changes for a contact until the account
 * links a browser.
 */
export function implicitDeviceList(identity: { signingKey: Uint8Array; dhKey: Uint8Array; dhKeySignature: Uint8Array }): DeviceList {
  return {
    account: identity.signingKey,
    version: 0,
    previous: ZERO_HASH,
    signer: FIRST_DEVICE_ID,
    devices: [{ id: FIRST_DEVICE_ID, signingKey: identity.signingKey, dhKey: identity.dhKey, dhKeySignature: identity.dhKeySignature }],
  };
}
