// Linking a browser to an account (issue #17; protocol/link-code.ts for the cryptography).
// The new browser makes its own keys (non-extractable, like every browser's), asks the server to
// hold a link request, shows the link code, and waits for the answer. An already linked browser
// reads the code, checks the request against it, signs the next version of the account's list
// of browsers with the new one in it, and answers with what the new browser needs: the account
// key it belongs to, the contacts' pinned keys and verification marks, the conversations and
// (if chosen) the last 30 days of history, sealed so that only the holder of the code opens it.
import { bytesEqual, fromUtf8, utf8 } from '../../crypto/bytes.ts';
import { generateEcdhKeyPair, type EcdhKeyPair } from '../../crypto/ecdh.ts';
import { webRandom } from '../../crypto/random.ts';
import { deviceEntryOf, firstDeviceList, nextDeviceList, verifyDeviceListChain, type SignedDeviceList } from '../../protocol/device-list.ts';
import type { LocalIdentity } from '../../protocol/identity.ts';
import {
  checkLinkRequest,
  formatLinkCode,
  linkRequestTag,
  LINK_SECRET_BYTES,
  openLinkTransfer,
  parseLinkCode,
  sealLinkTransfer,
  type LinkCode,
} from '../../protocol/link-code.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { decodeBase64url, encodeBase64url, FIRST_DEVICE_ID, MAX_DEVICES, type DeviceEntry } from '../../wire/index.ts';
import type { ApiClient } from '../platform/api-client.ts';
import type { MessageRecord } from '../platform/history-store.ts';
import { createIdentity } from '../platform/key-vault.ts';

/** History older than this stays behind. */
export const HISTORY_DAYS = 30;

/** What the new browser puts in its request: public keys, its suggested name, and the tag. */
interface RequestBody {
  ephemeral: string;
  device: { id: string; signingKey: string; dhKey: string; dhKeySignature: string };
  name: string;
  tag: string;
}

/** The sealed answer's content (JSON). Everything in it is validated by the new browser before use. */
export interface LinkTransfer {
  v: 1;
  account: string;
  contacts: Array<{ peer: string; pinnedKey: string; verified: boolean }>;
  conversations: Array<{ peer: string; lastAt: number; lastText: string; lastDirection: 'in' | 'out'; unread: number; nextSeq: number }>;
  /** `from`: a group member's name; `event`: a line ("bob linked a new browser"), not a message. Both optional, so either version reads the other's. */
  messages: Array<{ peer: string; id: string; direction: 'in' | 'out'; text: string; at: number; seq: number; state?: string; read?: boolean; from?: string; event?: true }>;
  settings: { readReceipts: boolean };
}

/** "Chromium on Linux": what the new browser calls itself until the person names it. */
export function suggestedName(userAgent: string = typeof navigator === 'undefined' ? '' : navigator.userAgent): string {
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrome\//.test(userAgent) ? (/Chromium|HeadlessChrome/.test(userAgent) ? 'Chromium' : 'Chrome') : /Safari\//.test(userAgent) ? 'Safari' : 'Browser';
  const os = /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Mac OS X/.test(userAgent) ? 'macOS' : /Windows/.test(userAgent) ? 'Windows' : /Linux|X11/.test(userAgent) ? 'Linux' : '';
  return os ? `${browser} on ${os}` : browser;
}

const entryToWire = (d: DeviceEntry) => ({ id: d.id, signingKey: encodeBase64url(d.signingKey), dhKey: encodeBase64url(d.dhKey), dhKeySignature: encodeBase64url(d.dhKeySignature) });

/** The new browser's side, from "Link to another browser" to being linked. */
export class PendingLink {
  private constructor(
    readonly code: LinkCode,
    readonly text: string,
    readonly expiresAt: number,
    readonly deviceId: string,
    readonly identity: LocalIdentity,
    private readonly ephemeral: EcdhKeyPair,
  ) {}

  static async start(api: ApiClient): Promise<PendingLink> {
    const identity = await createIdentity();
    const deviceId = encodeBase64url(webRandom(6));
    const ephemeral = await generateEcdhKeyPair(false);
    const code: LinkCode = { linkId: encodeBase64url(webRandom(16)), secret: webRandom(LINK_SECRET_BYTES) };
    const device = deviceEntryOf(deviceId, identity);
    const tag = await linkRequestTag(code, ephemeral.publicRaw, device);
    const body: RequestBody = { ephemeral: encodeBase64url(ephemeral.publicRaw), device: entryToWire(device), name: suggestedName(), tag: encodeBase64url(tag) };
    const { expiresAt } = await api.createLink(code.linkId, encodeBase64url(utf8(JSON.stringify(body))));
    return new PendingLink(code, formatLinkCode(code), expiresAt, deviceId, identity, ephemeral);
  }

  /** The linked browser's answer, opened and checked; undefined while it has not answered. */
  async poll(api: ApiClient, username: string): Promise<LinkTransfer | undefined> {
    const answer = await api.linkAnswer(this.code.linkId);
    if (answer === null) return undefined;
    const sealed = decodeBase64url(answer);
    if (!sealed) throw new ProtocolError('malformed_message', 'the link answer is malformed');
    const transfer = parseTransfer(fromUtf8(await openLinkTransfer(this.code, this.ephemeral, sealed)));
    // The account's list must name this browser with these keys and chain to the account key.
    const { chain } = await api.deviceChain(username);
    const verdict = await verifyDeviceListChain(
      decodeBase64url(transfer.account)!,
      chain.map((c) => ({ body: decodeBase64url(c.body) ?? new Uint8Array(0), signature: decodeBase64url(c.signature) ?? new Uint8Array(0) })),
    );
    const me = verdict.ok ? verdict.latest.list.devices.find((d) => d.id === this.deviceId) : undefined;
    if (!me || !bytesEqual(me.signingKey, this.identity.signing.publicRaw) || !bytesEqual(me.dhKey, this.identity.dh.publicRaw)) {
      throw new ProtocolError('link_mismatch', "the account's list of browsers does not name this browser with its keys");
    }
    return transfer;
  }
}

/** A stored text or line as the link answer carries it (files and calls stay behind). */
export function transferMessage(m: MessageRecord): LinkTransfer['messages'][number] {
  return {
    peer: m.peer,
    id: m.id,
    direction: m.direction,
    text: m.text,
    at: m.at,
    seq: m.seq,
    ...(m.read === undefined ? {} : { read: m.read }),
    ...(m.from === undefined ? {} : { from: m.from }),
    ...(m.event ? { event: true as const } : {}),
  };
}

export function parseTransfer(text: string): LinkTransfer {
  const bad = () => new ProtocolError('malformed_message', 'the link answer is malformed');
  let t: LinkTransfer;
  try {
    t = JSON.parse(text) as LinkTransfer;
  } catch {
    throw bad();
  }
  const str = (v: unknown, max = 16_384) => typeof v === 'string' && v.length <= max;
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!t || t.v !== 1 || !str(t.account) || decodeBase64url(t.account)?.length !== 65) throw bad();
  if (!Array.isArray(t.contacts) || !t.contacts.every((c) => str(c.peer, 64) && str(c.pinnedKey) && decodeBase64url(c.pinnedKey)?.length === 65 && typeof c.verified === 'boolean')) throw bad();
  if (!Array.isArray(t.conversations) || !t.conversations.every((c) => str(c.peer, 64) && num(c.lastAt) && str(c.lastText) && (c.lastDirection === 'in' || c.lastDirection === 'out') && num(c.unread) && num(c.nextSeq))) throw bad();
  const optional = (m: LinkTransfer['messages'][number]) => (m.from === undefined || str(m.from, 64)) && (m.event === undefined || m.event === true);
  if (!Array.isArray(t.messages) || !t.messages.every((m) => str(m.peer, 64) && str(m.id, 64) && (m.direction === 'in' || m.direction === 'out') && str(m.text) && num(m.at) && num(m.seq) && optional(m))) throw bad();
  if (!t.settings || typeof t.settings.readReceipts !== 'boolean') throw bad();
  return t;
}

/** What the linked browser learns from a link code: the new browser, to confirm by name. */
export interface LinkOffer {
  code: LinkCode;
  device: DeviceEntry;
  ephemeral: Uint8Array;
  name: string;
}

/** Reads a link code and fetches its request; throws link_mismatch if the server altered it. */
export async function readLinkCode(api: ApiClient, text: string): Promise<LinkOffer> {
  const code = parseLinkCode(text);
  if (!code) throw new ProtocolError('malformed_message', 'That is not a link code. Copy it again from the other browser.');
  const { request } = await api.linkRequest(code.linkId);
  let body: RequestBody;
  try {
    body = JSON.parse(fromUtf8(decodeBase64url(request) ?? new Uint8Array(0))) as RequestBody;
  } catch {
    throw new ProtocolError('link_mismatch', 'the link request was altered on the way');
  }
  const b = (s: unknown) => (typeof s === 'string' ? decodeBase64url(s) : undefined);
  const device = { id: String(body?.device?.id ?? ''), signingKey: b(body?.device?.signingKey), dhKey: b(body?.device?.dhKey), dhKeySignature: b(body?.device?.dhKeySignature) };
  const ephemeral = b(body?.ephemeral);
  const tag = b(body?.tag);
  if (!device.signingKey || !device.dhKey || !device.dhKeySignature || !ephemeral || !tag) throw new ProtocolError('link_mismatch', 'the link request was altered on the way');
  const entry: DeviceEntry = { id: device.id, signingKey: device.signingKey, dhKey: device.dhKey, dhKeySignature: device.dhKeySignature };
  await checkLinkRequest(code, { ephemeral, device: entry, tag });
  const name = typeof body.name === 'string' && body.name.trim() ? body.name.trim().slice(0, 64) : 'Browser';
  return { code, device: entry, ephemeral, name };
}

/** The account's signed lists as they stand, decoded: what the next version is made from. */
async function currentList(api: ApiClient, username: string, account: Uint8Array): Promise<SignedDeviceList | undefined> {
  const { chain } = await api.deviceChain(username);
  if (chain.length === 0) return undefined;
  const verdict = await verifyDeviceListChain(
    account,
    chain.map((c) => ({ body: decodeBase64url(c.body) ?? new Uint8Array(0), signature: decodeBase64url(c.signature) ?? new Uint8Array(0) })),
  );
  if (!verdict.ok) throw new ProtocolError('link_mismatch', "the server's list of your browsers does not verify");
  return verdict.latest;
}

/**
 * The linked browser approves: the next version of the list with the new browser in it (and
 * version 1 first, for an account that never linked one), then the sealed transfer.
 */
export async function approveLink(
  api: ApiClient,
  me: { username: string; device: string; identity: LocalIdentity; account: Uint8Array },
  offer: LinkOffer,
  name: string,
  transfer: LinkTransfer,
): Promise<void> {
  const current = await currentList(api, me.username, me.account);
  let first: SignedDeviceList | undefined;
  let base = current;
  if (!base) {
    if (me.device !== FIRST_DEVICE_ID || !bytesEqual(me.identity.signing.publicRaw, me.account)) {
      throw new ProtocolError('link_mismatch', 'only the browser holding the account key can start its list of browsers');
    }
    first = base = await firstDeviceList(me.identity);
  }
  if (base.list.devices.length >= MAX_DEVICES) throw new ProtocolError('malformed_message', `An account can have at most ${MAX_DEVICES} browsers. Unlink one first.`);
  if (base.list.devices.some((d) => d.id === offer.device.id)) throw new ProtocolError('link_mismatch', 'that browser is linked already');
  const next = await nextDeviceList(base, [...base.list.devices, offer.device], { id: me.device, identity: me.identity });
  const wire = (l: SignedDeviceList) => ({ body: encodeBase64url(l.body), signature: encodeBase64url(l.signature) });
  await api.appendDeviceList({ ...(first ? { first: wire(first) } : {}), list: wire(next), names: { [offer.device.id]: name } });
  const ephemeral = await generateEcdhKeyPair(false);
  const sealed = await sealLinkTransfer(offer.code, ephemeral, offer.ephemeral, utf8(JSON.stringify(transfer)), webRandom);
  await api.answerLink(offer.code.linkId, encodeBase64url(sealed));
}

/** The next version without `device`, signed by this browser: unlinking it. */
export async function unlinkDevice(api: ApiClient, me: { username: string; device: string; identity: LocalIdentity; account: Uint8Array }, device: string): Promise<void> {
  const current = await currentList(api, me.username, me.account);
  if (!current) throw new ProtocolError('malformed_message', 'This account has only this browser.');
  const kept = current.list.devices.filter((d) => d.id !== device);
  if (kept.length === current.list.devices.length) return;
  const next = await nextDeviceList(current, kept, { id: me.device, identity: me.identity });
  await api.appendDeviceList({ list: { body: encodeBase64url(next.body), signature: encodeBase64url(next.signature) } });
}

