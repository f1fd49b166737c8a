// Linking a new browser to an account (DESIGN.md "Several browsers per account", docs/devices.md).
// The new browser shows a link code: the server's id for its request and a 128-bit secret s that
// never reaches the server. Its request, which does go through the server, carries a tag
// HMAC-SHA-256(s, transcript) over its ephemeral key and its device keys, so a server that swaps
// either cannot make a tag that verifies. The linked browser answers under a key from
// HKDF(ECDH of the two ephemeral keys, salt s): without s the server can neither read nor forge it.
import { bytesEqual, concatBytes, utf8, type Bytes } from '../crypto/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt, DecryptError, GCM_IV_BYTES } from '../crypto/aead.ts';
import { ecdh, importEcdhPublic, type EcdhKeyPair } from '../crypto/ecdh.ts';
import { hkdfSha256 } from '../crypto/hkdf.ts';
import { hmacSha256 } from '../crypto/hmac.ts';
import type { RandomSource } from '../crypto/random.ts';
import { decodeBase64url, encodeBase64url } from '../wire/base64url.ts';
import { encodeDeviceList, type DeviceEntry } from '../wire/device-list.ts';
import { ProtocolError } from './errors.ts';

export const LINK_SECRET_BYTES = 16;
const LINK_ID = /^[A-Za-z0-9_-]{16,64}$/;
const TRANSCRIPT_LABEL = utf8('Parley v2 link request\u0000');
const TRANSFER_INFO = utf8('Parley v2 link transfer\u0000');

export interface LinkCode {
  /** The server's id of the request. */
  linkId: string;
  /** Known only to the two browsers. */
  secret: Bytes;
}

/** The code as text: `<link id>.<secret>`, shown under the QR code and typed into the other browser. */
export function formatLinkCode(code: LinkCode): string {
  return `${code.linkId}.${encodeBase64url(code.secret)}`;
}

/** Undefined for anything that is not a well-formed link code (spaces around it are forgiven). */
export function parseLinkCode(text: string): LinkCode | undefined {
  const [linkId, secretText, ...rest] = text.trim().split('.');
  if (rest.length || !linkId || !secretText || !LINK_ID.test(linkId)) return undefined;
  const secret = decodeBase64url(secretText);
  return secret?.length === LINK_SECRET_BYTES ? { linkId, secret } : undefined;
}

/** What the new browser's request binds: the link id, its ephemeral key and its device keys. */
function transcript(linkId: string, ephemeral: Uint8Array, device: DeviceEntry): Bytes {
  // A one-device list is the canonical encoding of a device entry that already exists; its other
  // fields are fixed so that only the entry varies.
  const entry = encodeDeviceList({ account: device.signingKey, version: 1, previous: new Uint8Array(32), signer: device.id, devices: [device] });
  return concatBytes(TRANSCRIPT_LABEL, utf8(linkId), Uint8Array.of(0), ephemeral, entry);
}

export function linkRequestTag(code: LinkCode, ephemeral: Uint8Array, device: DeviceEntry): Promise<Bytes> {
  return hmacSha256(code.secret, transcript(code.linkId, ephemeral, device));
}

/** Throws link_mismatch unless the request is the one the code was made for. */
export async function checkLinkRequest(code: LinkCode, request: { ephemeral: Uint8Array; device: DeviceEntry; tag: Uint8Array }): Promise<void> {
  const expected = await linkRequestTag(code, request.ephemeral, request.device);
  if (!bytesEqual(expected, request.tag)) {
    throw new ProtocolError('link_mismatch', 'the link request does not match the link code: it was altered on the way');
  }
}

async function transferKey(code: LinkCode, mine: EcdhKeyPair, theirs: Uint8Array, oldEphemeral: Uint8Array, newEphemeral: Uint8Array): Promise<Bytes> {
  let shared: Bytes;
  try {
    shared = await ecdh(mine.privateKey, await importEcdhPublic(theirs));
  } catch {
    throw new ProtocolError('bad_public_key', 'the link request carries a malformed key');
  }
  return hkdfSha256(shared, code.secret, concatBytes(TRANSFER_INFO, utf8(code.linkId), Uint8Array.of(0), oldEphemeral, newEphemeral), 32);
}

/** The linked browser seals what the new one needs: `E_O ‖ IV ‖ AES-256-GCM(…)`, AD = link id. */
export async function sealLinkTransfer(code: LinkCode, ephemeral: EcdhKeyPair, newEphemeral: Uint8Array, plaintext: Uint8Array, random: RandomSource): Promise<Bytes> {
  const key = await transferKey(code, ephemeral, newEphemeral, ephemeral.publicRaw, newEphemeral);
  const iv = random(GCM_IV_BYTES);
  return concatBytes(ephemeral.publicRaw, iv, await aesGcmEncrypt(key, iv, plaintext, utf8(code.linkId)));
}

/** The new browser opens it; link_mismatch if it was not sealed for this code. */
export async function openLinkTransfer(code: LinkCode, ephemeral: EcdhKeyPair, sealed: Uint8Array): Promise<Bytes> {
  if (sealed.length < 65 + GCM_IV_BYTES + 16) throw new ProtocolError('malformed_message', 'the link answer is cut short');
  const oldEphemeral = sealed.subarray(0, 65);
  const key = await transferKey(code, ephemeral, oldEphemeral, oldEphemeral, ephemeral.publicRaw);
  try {
    return await aesGcmDecrypt(key, sealed.subarray(65, 65 + GCM_IV_BYTES), sealed.subarray(65 + GCM_IV_BYTES), utf8(code.linkId));
  } catch (e) {
    if (e instanceof DecryptError) throw new ProtocolError('link_mismatch', 'the link answer was not made for this link code');
    throw e;
  }
}
