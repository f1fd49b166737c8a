// Which browsers speak for each account this browser talks to, its own included (issue #17).
// Lists come from the server but are believed only once they verify (protocol/device-list.ts)
// against the account key pinned for that person; the newest verified version is kept and
// pinned, so a server that serves an older list or one no browser signed is caught. An account
// that never linked a browser has no list: its one identity is browser "1", as in v1.
import { bytesEqual, type Bytes } from '../../crypto/bytes.ts';
import { verifyDeviceListChain } from '../../protocol/device-list.ts';
import { decodeBase64url, decodeDeviceList, FIRST_DEVICE_ID } from '../../wire/index.ts';
import type { ApiClient } from '../platform/api-client.ts';
import { idbGet, idbPut } from '../platform/idb.ts';

export { addressOf, parseAddress } from '../platform/addresses.ts';

export interface KnownDevices {
  /** The account key the list is for (the key the safety number is computed over). */
  account: Bytes;
  /** 0 for an account without a list (its v1 identity as browser "1"). */
  version: number;
  hash: Bytes;
  devices: Array<{ id: string; signingKey: Bytes }>;
  fetchedAt: number;
}

/** What the person should hear about a refresh: nothing, a quiet line, or a warning. */
export type DeviceListEvent =
  | { kind: 'linked'; count: number }
  | { kind: 'unlinked'; count: number }
  /** The server's list did not verify, or went backwards: this browser keeps the list it had. */
  | { kind: 'refused'; reason: 'stale' | 'fork' | 'invalid' }
  /** A list for another account key: a new identity (the blocking warning handles it). */
  | { kind: 'new-identity'; account: Bytes };

export interface DeviceDirectoryKeys {
  contact(peer: string): Promise<{ pinnedKey: Bytes } | undefined>;
  pin(peer: string, key: Bytes): Promise<void>;
}

const FRESH_MS = 30_000;

export class DeviceDirectory {
  private readonly stale = new Set<string>();
  private readonly inFlight = new Map<string, Promise<KnownDevices | undefined>>();

  private readonly cache = new Map<string, KnownDevices | undefined>();

  constructor(
    private readonly userId: string,
    private readonly api: Pick<ApiClient, 'deviceChain' | 'userKeys'>,
    private readonly keys: DeviceDirectoryKeys,
    private readonly events: (peer: string, event: DeviceListEvent) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The list as last verified, without asking the server. Kept in memory once read: every
   * message to a contact asks for it, and only this directory writes it (save()).
   */
  async known(peer: string): Promise<KnownDevices | undefined> {
    if (this.cache.has(peer)) return this.cache.get(peer);
    const read = await idbGet<KnownDevices>('meta', [this.userId, `devices:${peer}`]);
    if (!this.cache.has(peer)) this.cache.set(peer, read);
    return this.cache.get(peer);
  }

  /** The server said `peer`'s list changed: the next use fetches it. */
  markStale(peer: string): void {
    this.stale.add(peer);
  }

  /** The verified list, fetched again when older than 30 s or marked stale. */
  async devicesOf(peer: string): Promise<KnownDevices | undefined> {
    const cached = await this.known(peer);
    if (cached && !this.stale.has(peer) && this.now() - cached.fetchedAt < FRESH_MS) return cached;
    try {
      return (await this.refresh(peer)) ?? cached;
    } catch (e) {
      // The server cannot be asked right now: the list last verified still holds.
      if (cached) return cached;
      throw e;
    }
  }

  /** Whether `device` with `signingKey` is in `peer`'s verified list (fetching it once if not). */
  async isListed(peer: string, device: string, signingKey?: Uint8Array): Promise<boolean> {
    const match = (k: KnownDevices | undefined) => k?.devices.some((d) => d.id === device && (!signingKey || bytesEqual(d.signingKey, signingKey))) ?? false;
    if (match(await this.known(peer))) return true;
    return match(await this.refresh(peer));
  }

  /** Fetches and verifies `peer`'s list now; undefined if it could not be fetched or was refused. */
  refresh(peer: string): Promise<KnownDevices | undefined> {
    const running = this.inFlight.get(peer);
    if (running) return running;
    const job = this.fetchAndVerify(peer).finally(() => this.inFlight.delete(peer));
    this.inFlight.set(peer, job);
    return job;
  }

  private async fetchAndVerify(peer: string): Promise<KnownDevices | undefined> {
    const [{ chain }, cached, contact] = await Promise.all([this.api.deviceChain(peer), this.known(peer), this.keys.contact(peer)]);
    this.stale.delete(peer);
    if (chain.length === 0) {
      // An account that never published a list, as far as the server says. If this browser has
      // seen one, the server is hiding it (a list is never taken back): keep the one we have.
      const { identity } = await this.api.userKeys(peer);
      const account = decodeBase64url(identity.signingKey)!;
      // Unless the account started over with new keys ("Reset identity"): then the list went
      // with the old key, and the new key is a new identity, warned about as one.
      if (cached && cached.version > 0 && bytesEqual(cached.account, account)) {
        this.events(peer, { kind: 'refused', reason: 'stale' });
        return undefined;
      }
      // A key other than the pinned one is a new identity: kept as browser 1 of an account with no
      // list, so its messages open and the blocking warning (pinned key ≠ this one) holds sending.
      if (contact && !bytesEqual(contact.pinnedKey, account)) this.events(peer, { kind: 'new-identity', account });
      return this.save(peer, { account, version: 0, hash: new Uint8Array(32), devices: [{ id: FIRST_DEVICE_ID, signingKey: account }], fetchedAt: this.now() }, cached);
    }
    const versions = chain.map((c) => ({ body: decodeBase64url(c.body) ?? new Uint8Array(0), signature: decodeBase64url(c.signature) ?? new Uint8Array(0) }));
    const pinned = contact?.pinnedKey;
    // Without a pinned key the first list is trusted on first use, like a first bundle.
    const account = pinned ?? (await firstAccount(versions));
    if (!account) {
      this.events(peer, { kind: 'refused', reason: 'invalid' });
      return undefined;
    }
    const pin = cached && cached.version > 0 && bytesEqual(cached.account, account) ? { version: cached.version, hash: cached.hash } : undefined;
    const verdict = await verifyDeviceListChain(account, versions, pin);
    if (!verdict.ok) {
      if (verdict.reason === 'other_account') {
        const other = await firstAccount(versions);
        if (other) this.events(peer, { kind: 'new-identity', account: other });
      } else this.events(peer, { kind: 'refused', reason: verdict.reason });
      return undefined;
    }
    if (!pinned) await this.keys.pin(peer, account);
    const latest = verdict.latest;
    return this.save(
      peer,
      { account, version: latest.list.version, hash: latest.hash, devices: latest.list.devices.map((d) => ({ id: d.id, signingKey: new Uint8Array(d.signingKey) })), fetchedAt: this.now() },
      cached,
    );
  }

  private async save(peer: string, next: KnownDevices, before: KnownDevices | undefined): Promise<KnownDevices> {
    await idbPut('meta', [this.userId, `devices:${peer}`], next);
    this.cache.set(peer, next);
    if (before) {
      const had = new Set(before.devices.map((d) => d.id));
      const has = new Set(next.devices.map((d) => d.id));
      const added = next.devices.filter((d) => !had.has(d.id)).length;
      const removed = before.devices.filter((d) => !has.has(d.id)).length;
      if (added) this.events(peer, { kind: 'linked', count: added });
      if (removed) this.events(peer, { kind: 'unlinked', count: removed });
    }
    return next;
  }
}

async function firstAccount(versions: Array<{ body: Uint8Array }>): Promise<Bytes | undefined> {
  try {
    return new Uint8Array(decodeDeviceList(versions[0]!.body).account);
  } catch {
    return undefined;
  }
}
