// The server's side of several browsers per account (issue #17). It keeps each account's signed
// device lists in order and refuses a version no honest browser would send, but it vouches for
// nothing: peers verify every list themselves (protocol/device-list.ts), so a server that lied
// here would be caught there. What it does own: which browsers may connect, their names and last
// seen, dropping an unlinked browser's keys and queue, and the link requests between browsers.
import { createHash } from 'node:crypto';
import {
  WireError,
  LINK_TTL_MS,
  decodeBase64url,
  encodeBase64url,
  decodeDeviceList,
  dhKeySignedData,
  DeviceListFormatError,
  FIRST_DEVICE_ID,
  MAX_DEVICES,
  CLOSE,
  type AppendDeviceListRequest,
  type DeviceList,
  type DeviceView,
  type ServerFrame,
  type SignedDeviceListWire,
} from '../../wire/index.ts';
import type { IdentityRecord, Store, SignedListRecord } from '../store/types.ts';
import { signedBy } from '../keys/verify.ts';
import { deviceAddress, type DeviceRouter } from './device-router.ts';
import type { Bus } from '../bus/types.ts';

/** Open link requests an account may have at once: enough for a person, too few to flood the table. */
const MAX_OPEN_LINKS = 5;

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const bad = (message: string) => new WireError('bad_request', message);

function decoded(wire: SignedDeviceListWire): { record: Omit<SignedListRecord, 'version'>; list: DeviceList } {
  const body = decodeBase64url(wire.body);
  const signature = decodeBase64url(wire.signature);
  if (!body || !signature) throw bad('The device list is not base64url.');
  try {
    return { record: { body, signature }, list: decodeDeviceList(body) };
  } catch (e) {
    if (e instanceof DeviceListFormatError) throw bad(`The device list is malformed: ${e.message}.`);
    throw e;
  }
}

export interface DeviceServiceDeps {
  store: Store;
  bus: Bus;
  router: DeviceRouter;
  /** Where "your list changed" goes besides the account's own browsers: its mutual contacts. */
  now?: () => number;
}

export class DeviceService {
  private readonly now: () => number;

  constructor(private readonly deps: DeviceServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Refuses a browser that is not (or no longer) linked to the account. */
  async assertLinked(userId: string, device: string): Promise<void> {
    const d = await this.deps.store.devices.get(userId, device);
    if (d && d.unlinkedAt === null) return;
    if (!d && device === FIRST_DEVICE_ID && (await this.deps.store.devices.list(userId)).length === 0) return;
    throw new WireError('device_unlinked', 'This browser is no longer linked to your account.');
  }

  /** A browser's socket authenticated: may it connect? Linked browsers are marked as seen now. */
  async connected(userId: string, device: string): Promise<'ok' | 'unlinked' | 'unknown'> {
    const { store } = this.deps;
    const d = await store.devices.get(userId, device);
    if (!d) return device === FIRST_DEVICE_ID && (await store.devices.list(userId)).length === 0 ? 'ok' : 'unknown';
    if (d.unlinkedAt !== null) return 'unlinked';
    await store.devices.touch(userId, device, this.now());
    return 'ok';
  }

  async list(userId: string): Promise<DeviceView[]> {
    return (await this.deps.store.devices.list(userId))
      .filter((d) => d.unlinkedAt === null)
      .map((d) => ({ id: d.deviceId, name: d.name, createdAt: d.createdAt, lastSeenAt: d.lastSeenAt }));
  }

  async rename(userId: string, device: string, name: string): Promise<void> {
    await this.assertLinked(userId, device);
    await this.deps.store.devices.rename(userId, device, name);
  }

  async chain(userId: string): Promise<SignedDeviceListWire[]> {
    return (await this.deps.store.devices.chain(userId)).map((l) => ({ body: encodeBase64url(l.body), signature: encodeBase64url(l.signature) }));
  }

  /**
   * Appends the next version of the account's list, signed by the requesting browser. Browsers
   * it adds become linked (with the names given); browsers it leaves out are unlinked: their
   * keys and queue are dropped and their socket is told to wipe itself.
   */
  async append(user: { id: string; username: string }, device: string, req: AppendDeviceListRequest): Promise<{ version: number }> {
    const { store } = this.deps;
    await this.assertLinked(user.id, device);
    const chain = await store.devices.chain(user.id);
    const steps = req.first ? [decoded(req.first), decoded(req.list)] : [decoded(req.list)];
    let previous = chain.length ? { record: chain[chain.length - 1]!, list: decodeDeviceList(chain[chain.length - 1]!.body) } : undefined;
    for (const step of steps) {
      await this.checkStep(user.id, device, previous, step.list, step.record);
      previous = { record: { ...step.record, version: step.list.version }, list: step.list };
    }
    const before = chain.length ? decodeDeviceList(chain[chain.length - 1]!.body).devices.map((d) => d.id) : [FIRST_DEVICE_ID];
    const latest = steps[steps.length - 1]!.list;
    const after = latest.devices.map((d) => d.id);
    const now = this.now();
    for (const id of after.filter((id) => !before.includes(id))) {
      if ((await store.devices.add(user.id, { deviceId: id, name: req.names?.[id] ?? 'Browser', createdAt: now, lastSeenAt: now })) === 'exists') {
        throw bad(`A browser with id ${id} was linked to this account before; ids are never reused.`);
      }
    }
    for (const step of steps) {
      if ((await store.devices.appendList(user.id, { ...step.record, version: step.list.version }, now)) === 'conflict') {
        throw new WireError('conflict', 'Another browser changed the list of linked browsers at the same time. Try again.');
      }
    }
    // The new browsers' identities, as the list has them, so their bundles can be served.
    for (const d of latest.devices.filter((d) => !before.includes(d.id))) {
      await store.identities.put(user.id, { signingKey: d.signingKey, dhKey: d.dhKey, dhKeySignature: d.dhKeySignature, updatedAt: now }, d.id);
    }
    for (const id of before.filter((id) => !after.includes(id))) await this.unlinked(user.id, id, now);
    await this.announce(user);
    return { version: latest.version };
  }

  private async checkStep(
    userId: string,
    device: string,
    previous: { record: SignedListRecord; list: DeviceList } | undefined,
    list: DeviceList,
    record: Omit<SignedListRecord, 'version'>,
  ): Promise<void> {
    if (!previous) {
      // Version 1 is the v1 identity as device "1", signed by it.
      const identity = await this.deps.store.identities.get(userId, FIRST_DEVICE_ID);
      const first = list.devices.find((d) => d.id === FIRST_DEVICE_ID);
      if (list.version !== 1) throw new WireError('conflict', 'The account has no list of browsers yet: send version 1 first.');
      if (!identity || !first || !same(list.account, identity.signingKey) || !same(first.signingKey, identity.signingKey) || !same(first.dhKey, identity.dhKey)) {
        throw bad("Version 1 of the list must hold the account's own keys as browser 1.");
      }
      if (list.signer !== FIRST_DEVICE_ID || !(await signedBy(list.account, record.signature, record.body))) throw bad('Version 1 of the list must be signed by the account key.');
    } else {
      if (list.version !== previous.record.version + 1) throw new WireError('conflict', `The list is at version ${previous.record.version}; the next must be ${previous.record.version + 1}.`);
      if (!same(list.account, previous.list.account)) throw bad("The list is for another account key. Use \"Reset identity\" to start with new keys.");
      if (!same(list.previous, sha256(previous.record.body))) throw bad('The list does not follow the current version.');
      const signer = previous.list.devices.find((d) => d.id === list.signer);
      if (!signer || list.signer !== device) throw bad('The list must be signed by the browser that sends it, a browser of the current list.');
      if (!(await signedBy(signer.signingKey, record.signature, record.body))) throw bad("The list's signature does not verify.");
    }
    for (const d of list.devices) {
      if (!(await signedBy(d.signingKey, d.dhKeySignature, dhKeySignedData(d.dhKey)))) throw bad(`Browser ${d.id}'s DH key is not signed by its signing key.`);
    }
    if (list.devices.length > MAX_DEVICES) throw bad(`An account can have at most ${MAX_DEVICES} browsers.`);
  }

  private async unlinked(userId: string, device: string, now: number): Promise<void> {
    const { store, bus } = this.deps;
    await store.devices.unlink(userId, device, now);
    await store.queue.dropDevice(userId, device);
    if (device === FIRST_DEVICE_ID) {
      // Browser 1's identity is the account's identity record (its signing key is AK, and v1
      // peers compare it): keep it, but hand out no more prekeys for a browser that is gone.
      const identity = await store.identities.get(userId, device);
      await store.preKeys.dropDevice(userId, device);
      if (identity) await store.identities.put(userId, identity, device);
    } else {
      await store.preKeys.dropDevice(userId, device);
    }
    const address = deviceAddress(userId, device);
    await bus.deliver(address, JSON.stringify({ type: 'unlinked' } satisfies ServerFrame));
    await bus.disconnect(address, CLOSE.unlinked, 'unlinked');
  }

  /** "This account's browsers changed": to its own browsers and its mutual contacts. */
  private async announce(user: { id: string; username: string }): Promise<void> {
    const text = JSON.stringify({ type: 'devices', user: user.username } satisfies ServerFrame);
    await this.deps.router.deliver(user.id, text);
    for (const id of await this.deps.store.contacts.mutual(user.id)) await this.deps.router.deliver(id, text);
  }

  /**
   * "Reset identity" from `device`: a new account key, published as browser 1's identity; every
   * other browser is unlinked (and told to wipe itself), the old lists and their pins go, and the
   * asking browser is browser 1 from now on (its socket reconnects as that).
   */
  async resetIdentity(user: { id: string; username: string }, device: string, identity: IdentityRecord, name: string): Promise<void> {
    const { store, bus } = this.deps;
    await this.assertLinked(user.id, device);
    const now = this.now();
    for (const d of await store.devices.list(user.id)) {
      if (d.unlinkedAt !== null) continue;
      if (d.deviceId === device) {
        // The asking browser is not wiped: it only changes id. Its old queue and keys go.
        await store.devices.unlink(user.id, device, now);
        await store.queue.dropDevice(user.id, device);
        await store.preKeys.dropDevice(user.id, device);
        await bus.disconnect(deviceAddress(user.id, device), CLOSE.replaced, 'identity reset');
      } else await this.unlinked(user.id, d.deviceId, now);
    }
    await store.devices.clearLists(user.id);
    await store.devices.relinkFirst(user.id, name, now);
    await store.queue.dropDevice(user.id, FIRST_DEVICE_ID);
    await store.identities.put(user.id, identity, FIRST_DEVICE_ID);
    await this.announce(user);
  }

  /**
   * Browser 1 published keys. If they are not the account key its list was made with, the account
   * started over with new keys ("Start with new keys"): its old list and every other browser go,
   * and contacts will see a new safety number, as they must.
   */
  async identityPublished(user: { id: string; username: string }, device: string): Promise<void> {
    if (device !== FIRST_DEVICE_ID) return;
    const { store } = this.deps;
    const chain = await store.devices.chain(user.id);
    const identity = await store.identities.get(user.id, FIRST_DEVICE_ID);
    if (!chain.length || !identity || same(decodeDeviceList(chain[0]!.body).account, identity.signingKey)) return;
    await store.devices.clearLists(user.id);
    const now = this.now();
    for (const d of await store.devices.list(user.id)) if (d.deviceId !== FIRST_DEVICE_ID && d.unlinkedAt === null) await this.unlinked(user.id, d.deviceId, now);
    await this.announce(user);
  }

  // ---- link requests

  async createLink(userId: string, linkId: string, request: Uint8Array): Promise<{ linkId: string; expiresAt: number }> {
    const { store } = this.deps;
    const now = this.now();
    if ((await this.list(userId)).length >= MAX_DEVICES) {
      throw new WireError('forbidden', `This account already has ${MAX_DEVICES} linked browsers, the most it can have. Unlink one first.`);
    }
    if ((await store.linkRequests.countOpen(userId, now)) >= MAX_OPEN_LINKS) {
      throw new WireError('rate_limited', 'Too many link codes are waiting. Use one of them, or wait ten minutes.');
    }
    const expiresAt = now + LINK_TTL_MS;
    if ((await store.linkRequests.insert({ id: linkId, userId, request, createdAt: now, expiresAt })) === 'exists') {
      throw new WireError('conflict', 'That link id is taken. Make a new link code.');
    }
    return { linkId, expiresAt };
  }

  private async openLink(userId: string, linkId: string) {
    const r = await this.deps.store.linkRequests.get(linkId);
    // Someone else's link id looks exactly like an unknown one.
    if (!r || r.userId !== userId || r.expiresAt <= this.now()) throw new WireError('not_found', 'This link code has expired or is not for this account. Make a new one.');
    return r;
  }

  async linkRequest(userId: string, linkId: string): Promise<{ request: string; expiresAt: number }> {
    const r = await this.openLink(userId, linkId);
    if (r.usedAt !== null) throw new WireError('not_found', 'This link code was used already. Make a new one.');
    return { request: encodeBase64url(r.request), expiresAt: r.expiresAt };
  }

  async answerLink(userId: string, device: string, linkId: string, answer: Uint8Array): Promise<void> {
    await this.assertLinked(userId, device);
    const result = await this.deps.store.linkRequests.answer(linkId, userId, answer, this.now());
    if (result === 'used') throw new WireError('not_found', 'This link code was used already. Make a new one.');
    if (result === 'missing') throw new WireError('not_found', 'This link code has expired or is not for this account. Make a new one.');
  }

  async linkAnswer(userId: string, linkId: string): Promise<{ answer: string | null }> {
    const r = await this.openLink(userId, linkId);
    return { answer: r.answer ? encodeBase64url(r.answer) : null };
  }

  purge(now = this.now()): Promise<number> {
    return this.deps.store.linkRequests.purgeExpired(now);
  }
}
