// The device list of an account, byte for byte (DESIGN.md "Several browsers per account"). The
// signed bytes are the list itself: peers decode these bytes, never a JSON copy of them, so what
// was signed is exactly what is used. Both the browser (which signs and verifies) and the server
// (which refuses what no honest client sends) read and write this format; it knows no crypto.
//
//   label "Parley v2 device list\0"
//   account key AK (65)  version (u32 BE)  previous list's SHA-256 (32, zeros for version 1)
//   signer id (u8 length ‖ ASCII)  device count (u8, 1..10)
//   per device: id (u8 length ‖ ASCII)  signing key DSK (65)  DH key DK (65)  DSK's signature over DK (64)

const encoder = new TextEncoder();
export const DEVICE_LIST_LABEL = encoder.encode('Parley v2 device list\u0000');
export const MAX_DEVICES = 10;
/** The device id a v1 account's keys (and every account's first browser) carry. */
export const FIRST_DEVICE_ID = '1';
const DEVICE_ID = /^[A-Za-z0-9_-]{1,16}$/;
const KEY = 65;
const SIGNATURE = 64;
const SHA256_BYTES = 32;

export function isDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

export interface DeviceEntry {
  id: string;
  signingKey: Uint8Array;
  dhKey: Uint8Array;
  dhKeySignature: Uint8Array;
}

export interface DeviceList {
  account: Uint8Array;
  version: number;
  previous: Uint8Array;
  signer: string;
  devices: DeviceEntry[];
}

export class DeviceListFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceListFormatError';
  }
}

function checkShape(list: DeviceList): void {
  const fail = (m: string) => {
    throw new DeviceListFormatError(m);
  };
  if (list.account.length !== KEY || list.account[0] !== 4) fail('the account key is not an uncompressed P-256 point');
  if (!Number.isInteger(list.version) || list.version < 1 || list.version > 0xffffffff) fail('the version is out of range');
  if (list.previous.length !== SHA256_BYTES) fail('the previous hash is not 32 bytes');
  if (list.version === 1 && list.previous.some((b) => b !== 0)) fail('version 1 has a previous list');
  if (!isDeviceId(list.signer)) fail('the signer id is malformed');
  if (list.devices.length < 1 || list.devices.length > MAX_DEVICES) fail(`a list holds 1 to ${MAX_DEVICES} devices`);
  const ids = new Set<string>();
  for (const d of list.devices) {
    if (!isDeviceId(d.id)) fail('a device id is malformed');
    if (ids.has(d.id)) fail(`device ${d.id} is listed twice`);
    ids.add(d.id);
    if (d.signingKey.length !== KEY || d.signingKey[0] !== 4) fail(`device ${d.id}'s signing key is malformed`);
    if (d.dhKey.length !== KEY || d.dhKey[0] !== 4) fail(`device ${d.id}'s DH key is malformed`);
    if (d.dhKeySignature.length !== SIGNATURE) fail(`device ${d.id}'s DH key signature is malformed`);
  }
}

export function encodeDeviceList(list: DeviceList): Uint8Array<ArrayBuffer> {
  checkShape(list);
  const ascii = (s: string) => encoder.encode(s);
  const parts: Uint8Array[] = [DEVICE_LIST_LABEL, list.account, u32(list.version), list.previous, withLength(ascii(list.signer)), Uint8Array.of(list.devices.length)];
  for (const d of list.devices) parts.push(withLength(ascii(d.id)), d.signingKey, d.dhKey, d.dhKeySignature);
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Throws DeviceListFormatError for anything but the exact bytes encodeDeviceList makes. */
export function decodeDeviceList(bytes: Uint8Array): DeviceList {
  let at = 0;
  const take = (n: number): Uint8Array => {
    if (at + n > bytes.length) throw new DeviceListFormatError('the device list is cut short');
    const out = bytes.slice(at, at + n);
    at += n;
    return out;
  };
  const label = take(DEVICE_LIST_LABEL.length);
  if (!label.every((b, i) => b === DEVICE_LIST_LABEL[i])) throw new DeviceListFormatError('not a device list');
  const account = take(KEY);
  const version = new DataView(take(4).buffer).getUint32(0, false);
  const previous = take(SHA256_BYTES);
  const id = () => {
    const raw = take(take(1)[0]!);
    for (const b of raw) if (b > 0x7f) throw new DeviceListFormatError('a device id is not ASCII');
    return String.fromCharCode(...raw);
  };
  const signer = id();
  const count = take(1)[0]!;
  const devices: DeviceEntry[] = [];
  for (let i = 0; i < count; i++) devices.push({ id: id(), signingKey: take(KEY), dhKey: take(KEY), dhKeySignature: take(SIGNATURE) });
  if (at !== bytes.length) throw new DeviceListFormatError('the device list has trailing bytes');
  const list = { account, version, previous, signer, devices };
  checkShape(list);
  return list;
}

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n >>> 0, false);
  return out;
}

function withLength(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + b.length);
  out[0] = b.length;
  out.set(b, 1);
  return out;
}
