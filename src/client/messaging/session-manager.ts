// This device's sessions with its contacts: one per contact, used for every message, kept in
// IndexedDB across reloads and calls. It turns typed payloads into envelopes and back, starts
// sessions from the key directory when needed, and carries out the pinning rules: a changed
// safety number blocks sending until the user accepts it. All protocol work for one contact
// runs strictly one operation at a time: two concurrent seals would fork the ratchet.
import { fromUtf8, utf8, bytesEqual, type Bytes } from '../../crypto/bytes.ts';
import { webRandom } from '../../crypto/random.ts';
import { decodeBase64url, parseJson, parseWith, payload as payloadSchema, type Payload, type PreKeyBundleResponse } from '../../wire/index.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { LocalIdentity } from '../../protocol/identity.ts';
import type { PreKeyBundle } from '../../protocol/prekeys.ts';
import { safetyNumber } from '../../protocol/safety-number.ts';
import { prepareRun, seal, sessionIdentityKey, startSession, type SessionDeps } from '../../protocol/session-cipher.ts';
import type { SessionRecord } from '../../protocol/session-record.ts';
import { ApiError, type ApiClient } from '../platform/api-client.ts';
import type { BrowserProtocolStore, ContactKeys } from '../platform/protocol-stores.ts';
import { decodeEnvelope } from '../../protocol/envelope.ts';
import { addressOf, parseAddress, type DeviceDirectory } from './device-directory.ts';

export interface ContactSecurity {
  /** 60 digits, or null until a key for the contact is known. */
  safetyNumber: string | null;
  verified: boolean;
  /** The contact's identity key changed and the user has not accepted it: sending is blocked. */
  keyChanged: boolean;
  /** The contact had been verified before the change (the warning says so, loudly). */
  wasVerified: boolean;
  /** How many browsers the contact's verified list names (1 for an account without a list). */
  devices: number | null;
}

export interface Received<T> {
  payload: Payload;
  /** The sender's identity is not the pinned one (sending stays blocked until accepted). */
  keyChanged: boolean;
  /** What `alongside` returned: the history changes written with the ratchet state. */
  effect: T;
}

function parsePayload(plaintext: Uint8Array): Payload {
  let text: string;
  try {
    text = fromUtf8(plaintext);
  } catch {
    throw new ProtocolError('malformed_message', 'the message is not valid text');
  }
  const parsed = parseWith(payloadSchema, parseJson(text));
  if (!parsed.ok) throw new ProtocolError('malformed_message', `the message content is malformed (${parsed.message})`);
  return parsed.value;
}

function bundleFromWire(b: PreKeyBundleResponse): PreKeyBundle {
  const d = (s: string) => decodeBase64url(s)!;
  return {
    identity: { signingKey: d(b.identity.signingKey), dhKey: d(b.identity.dhKey), dhKeySignature: d(b.identity.dhKeySignature) },
    signedPreKey: { id: b.signedPreKey.id, publicKey: d(b.signedPreKey.publicKey), signature: d(b.signedPreKey.signature) },
    pqPreKey: { id: b.pqPreKey.id, publicKey: d(b.pqPreKey.publicKey), signature: d(b.pqPreKey.signature) },
    ...(b.oneTimePreKey ? { oneTimePreKey: { id: b.oneTimePreKey.id, publicKey: d(b.oneTimePreKey.publicKey) } } : {}),
  };
}

export class SessionManager {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly safetyNumbers = new Map<string, { key: Uint8Array; number: string }>();
  private readonly deps: SessionDeps;

  constructor(
    private readonly me: { username: string; identity: LocalIdentity; device: string },
    private readonly store: BrowserProtocolStore,
    private readonly api: ApiClient,
    readonly directory: DeviceDirectory,
  ) {
    this.deps = { identities: store, preKeys: store, sessions: store, random: webRandom, now: () => Date.now() };
  }

  /** Runs `job` after every earlier job for `peer` has settled. */
  private serial<T>(peer: string, job: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(peer) ?? Promise.resolve();
    const next = previous.then(job, job);
    this.queues.set(peer, next.catch(() => undefined));
    return next;
  }

  /**
   * Gets ready to talk to `peer`: compares the directory's identity key with the pinned one
   * (a difference marks the contact as changed and blocks sending), and starts a session from
   * a fresh bundle when there is none for the current key.
   */
  prepare(peer: string): Promise<void> {
    return this.serial(peer, async () => {
      const listed = await this.api.userKeys(peer);
      const directoryKey = decodeBase64url(listed.identity.signingKey)!;
      const pinned = (await this.store.contact(peer))?.pinnedKey;
      if (pinned && !bytesEqual(pinned, directoryKey)) {
        await this.store.markChanged(peer, directoryKey);
        return;
      }
      const known = (await this.directory.refresh(peer).catch(() => undefined)) ?? (await this.directory.known(peer));
      if (!known || known.version === 0) {
        const current = await sessionIdentityKey(peer, this.deps);
        if (current && bytesEqual(current, directoryKey)) return;
        await startSession(peer, bundleFromWire(await this.api.bundle(peer)), this.deps);
        return;
      }
      for (const d of known.devices) {
        if (peer === this.me.username && d.id === this.me.device) continue;
        await this.ensureSession(peer, d.id, d.signingKey);
      }
    });
  }

  /** A session with one browser of `peer`, from its bundle, whose keys must be the list's. */
  private async ensureSession(peer: string, device: string, signingKey: Uint8Array): Promise<void> {
    const address = addressOf(peer, device);
    const current = await sessionIdentityKey(address, this.deps);
    if (current && bytesEqual(current, signingKey)) return;
    const bundle = bundleFromWire(await this.api.bundle(peer, device));
    if (!bytesEqual(bundle.identity.signingKey, signingKey)) throw new ProtocolError('unknown_device', `the keys the server gave for ${peer}'s browser are not the ones their list names`);
    await startSession(address, bundle, this.deps);
  }

  /**
   * The sessions' addresses a message to `peer` goes to: every browser of theirs, and (when
   * `copies`) every other browser of this account. Browsers without a session yet get one; one
   * that cannot be reached yet (just linked, keys not published) is left out this time.
   */
  async targets(peer: string, copies: boolean): Promise<{ peer: string[]; own: string[] }> {
    const of = async (name: string) => {
      const known = await this.directory.devicesOf(name).catch(() => undefined);
      if (!known || known.version === 0) return name === this.me.username ? [] : [addressOf(name, '1')];
      const out: string[] = [];
      for (const d of known.devices) {
        if (name === this.me.username && d.id === this.me.device) continue;
        try {
          await this.serial(name, () => this.ensureSession(name, d.id, d.signingKey));
          out.push(addressOf(name, d.id));
        } catch (e) {
          if (!(e instanceof ApiError) && !(e instanceof ProtocolError)) throw e;
        }
      }
      return out;
    };
    return { peer: await of(peer), own: copies ? await of(this.me.username) : [] };
  }

  /**
   * Seals for one session (`address`: a username is that person's browser "1"). Refuses
   * (identity_changed) while the contact has a new key the user has not accepted.
   */
  seal(address: string, p: Payload): Promise<Bytes> {
    const { peer } = parseAddress(address);
    return this.serial(peer, async () => {
      if ((await this.store.contact(peer))?.pendingKey) throw new ProtocolError('identity_changed', `the safety number with ${peer} has changed`);
      return seal(address, utf8(JSON.stringify(p)), this.deps);
    });
  }

  /**
   * Seals `p` for many sessions with one durable write of all the states they advance, where
   * one seal each makes one write each (a group text to 99 members: 99 waits for the disk).
   * Nothing is returned, so nothing can be sent, before that write is done; meanwhile each
   * contact's queue is held, as for a single seal. Per address: the envelope, or the error that
   * stopped it (identity_changed, no_session: the caller's pump deals with those).
   */
  async sealMany(addresses: readonly string[], p: Payload): Promise<Map<string, Bytes | Error>> {
    const plaintext = utf8(JSON.stringify(p));
    const results = new Map<string, Bytes | Error>();
    const advanced = new Map<string, SessionRecord>();
    const sessions = { load: (a: string) => this.store.load(a), store: async (a: string, r: SessionRecord) => void advanced.set(a, r) };
    const deps: SessionDeps = { ...this.deps, sessions };
    const byPeer = new Map<string, string[]>();
    for (const a of addresses) byPeer.set(parseAddress(a).peer, [...(byPeer.get(parseAddress(a).peer) ?? []), a]);
    let written!: () => void;
    const durable = new Promise<void>((resolve) => (written = resolve));
    let left = byPeer.size;
    let allSealed!: () => void;
    const sealed = new Promise<void>((resolve) => (allSealed = resolve));
    if (left === 0) return results;
    for (const [peer, own] of byPeer) {
      // One job per contact (two jobs for one contact would wait on each other for good), held
      // until the states are written so no other seal for that contact runs on a stale state.
      void this.serial(peer, async () => {
        const blocked = Boolean((await this.store.contact(peer))?.pendingKey);
        for (const a of own) {
          try {
            if (blocked) throw new ProtocolError('identity_changed', `the safety number with ${peer} has changed`);
            results.set(a, await seal(a, plaintext, deps));
          } catch (e) {
            results.set(a, e instanceof Error ? e : new Error(String(e)));
          }
        }
        if (--left === 0) allSealed();
        await durable;
      });
    }
    await sealed;
    try {
      await this.store.storeMany(advanced);
    } catch (e) {
      // Not written: none of these envelopes may leave (their keys would be used again).
      for (const a of advanced.keys()) results.set(a, e instanceof Error ? e : new Error(String(e)));
    } finally {
      written();
    }
    return results;
  }

  /**
   * Decrypts an envelope and, in the same IndexedDB transaction as the new ratchet state,
   * applies what it says (`alongside`). Throws ProtocolError for anything that does not decrypt
   * to a valid payload.
   */
  async receive<T>(address: string, envelope: Uint8Array, alongside: (tx: IDBTransaction, payload: Payload) => Promise<T>): Promise<Received<T>> {
    const [result] = await this.receiveMany([{ address, envelope }], alongside);
    if (result instanceof Error) throw result;
    return result!;
  }

  /**
   * Several envelopes, from any senders: each sender's run is decrypted against its session in
   * memory, then every session and everything the payloads change (`alongside`, called in the
   * order of `items`) are written in one durable transaction; only then does anything return.
   * Per item: what it said, or the error that kept it out (a ProtocolError for anything that
   * does not decrypt to a valid payload, which is then never shown; any other error if nothing
   * could be written, when it may be tried again). A message that decrypts to a malformed
   * payload still uses its key, as it would have on its own turn.
   */
  async receiveMany<T>(
    items: ReadonlyArray<{ address: string; envelope: Uint8Array }>,
    alongside: (tx: IDBTransaction, payload: Payload, index: number) => Promise<T>,
    /**
     * Called once in the transaction before any `alongside`, with every payload to apply (to
     * start reads ahead); what it returns is called after the last.
     */
    prepare?: (tx: IDBTransaction, payloads: ReadonlyArray<{ index: number; payload: Payload }>) => (() => Promise<void>) | void,
  ): Promise<Array<Received<T> | Error>> {
    const results: Array<Received<T> | Error> = new Array(items.length);
    const byPeer = new Map<string, Map<string, number[]>>();
    for (const [i, { address }] of items.entries()) {
      const { peer } = parseAddress(address);
      const runs = byPeer.get(peer) ?? new Map<string, number[]>();
      runs.set(address, [...(runs.get(address) ?? []), i]);
      byPeer.set(peer, runs);
    }
    let release!: (ok: boolean) => void;
    const written = new Promise<boolean>((resolve) => (release = resolve));
    const records = new Map<string, SessionRecord>();
    const payloads = new Map<number, Payload>();
    // Each peer's runs hold that peer's queue from decryption until after the write, as a single
    // message does: nothing else may open or seal with those sessions in between.
    const jobs = [...byPeer].map(([peer, runs]) => {
      let prepared!: () => void;
      const ready = new Promise<void>((resolve) => (prepared = resolve));
      const job = this.serial(peer, async () => {
        const finishers: Array<() => Promise<void>> = [];
        try {
          for (const [address, indexes] of runs) finishers.push(await this.prepareRun(peer, address, indexes, items, results, records, payloads));
        } catch (e) {
          // Nothing of this peer's is written (its envelopes come again); the others' are.
          finishers.length = 0;
          const error = e instanceof Error ? e : new Error(String(e));
          for (const [address, indexes] of runs) {
            records.delete(address);
            for (const i of indexes) {
              payloads.delete(i);
              results[i] = error;
            }
          }
        } finally {
          prepared();
        }
        if (await written) for (const f of finishers) await f();
      });
      return { ready, job };
    });
    await Promise.all(jobs.map((j) => j.ready));
    const order = [...payloads.keys()].sort((a, b) => a - b);
    try {
      if (records.size) {
        const effects = await this.store.commitSessions(records, async (tx) => {
          const out = new Map<number, T>();
          const done = prepare?.(tx, order.map((index) => ({ index, payload: payloads.get(index)! })));
          for (const i of order) out.set(i, await alongside(tx, payloads.get(i)!, i));
          await done?.();
          return out;
        });
        for (const i of order) results[i] = { payload: payloads.get(i)!, keyChanged: false, effect: effects.get(i) as T };
      }
      release(true);
    } catch (e) {
      release(false);
      const error = e instanceof Error ? e : new Error(String(e));
      for (const i of order) results[i] = error;
    }
    const settled = await Promise.allSettled(jobs.map((j) => j.job));
    for (const s of settled) if (s.status === 'rejected') throw s.reason;
    return results;
  }

  /**
   * Decrypts one browser's envelopes (`indexes` into `items`) against its session, putting the
   * record to write in `records`, each payload in `payloads` and each refusal in `results`.
   * Returns what to do once the record is written: the protocol's last steps, and the key check.
   */
  private async prepareRun(
    peer: string,
    address: string,
    indexes: number[],
    items: ReadonlyArray<{ address: string; envelope: Uint8Array }>,
    results: Array<Received<unknown> | Error>,
    records: Map<string, SessionRecord>,
    payloads: Map<number, Payload>,
  ): Promise<() => Promise<void>> {
    const { device } = parseAddress(address);
    // A browser the account's verified list does not name gets nothing opened: it may be one
    // the server made up (a "ghost device"), or one that was unlinked.
    const known = await this.directory.known(peer);
    const listed = device !== '1' || (known && known.version > 0);
    const admitted: number[] = [];
    for (const i of indexes) {
      if (listed) {
        const parsed = decodeEnvelope(items[i]!.envelope);
        const key = parsed?.kind === 'prekey' ? parsed.initial.identity.signingKey : undefined;
        try {
          // A list that cannot be fetched now (offline) throws: the envelope stays unacknowledged
          // and comes again, rather than being refused for a browser that may be genuine.
          if (!(await this.directory.isListed(peer, device, key))) {
            results[i] = new ProtocolError('unknown_device', `a message from a browser that is not in ${peer}'s list of browsers`);
            continue;
          }
        } catch (e) {
          results[i] = e instanceof Error ? e : new Error(String(e));
          continue;
        }
      }
      admitted.push(i);
    }
    const run = await prepareRun(address, admitted.map((i) => items[i]!.envelope), this.deps);
    if (run.record) records.set(address, run.record);
    for (const [k, outcome] of run.outcomes.entries()) {
      const i = admitted[k]!;
      if (!outcome.ok) results[i] = outcome.error;
      else {
        try {
          payloads.set(i, parsePayload(outcome.plaintext));
        } catch (e) {
          results[i] = e as ProtocolError;
        }
      }
    }
    return async () => {
      const finished = await run.finish();
      for (const [k, r] of finished.entries()) {
        const i = admitted[k]!;
        const received = results[i];
        if (!r.ok || !received || received instanceof Error) continue;
        const changed = r.opened.trust === 'changed' && device === '1' && !listed;
        if (changed) {
          await this.store.markChanged(peer, r.opened.identityKey);
          received.keyChanged = true;
        }
      }
    };
  }

  hasSession(peer: string): Promise<boolean> {
    return this.serial(peer, async () => Boolean(await sessionIdentityKey(peer, this.deps)));
  }

  /** The contact's key state without the safety number (cheap: for every member of a group). */
  async keyState(peer: string): Promise<{ keyChanged: boolean; verified: boolean }> {
    const c: ContactKeys | undefined = await this.store.contact(peer);
    return { keyChanged: Boolean(c?.pendingKey), verified: c?.verified ?? false };
  }

  async security(peer: string): Promise<ContactSecurity> {
    const c: ContactKeys | undefined = await this.store.contact(peer);
    const key = c?.pendingKey ?? c?.pinnedKey;
    const known = await this.directory.known(peer);
    return {
      safetyNumber: key ? await this.safetyNumberWith(peer, key) : null,
      verified: c?.verified ?? false,
      keyChanged: Boolean(c?.pendingKey),
      wasVerified: c?.wasVerified ?? false,
      devices: known ? known.devices.length : null,
    };
  }

  /**
   * The safety number takes 2 × 5,200 SHA-512 rounds, each a Web Crypto call: some 200 ms in
   * which every other Web Crypto call of the page (a ratchet step, a call's seal) waits behind
   * them. It depends only on the two keys, so it is made once per contact key.
   */
  private async safetyNumberWith(peer: string, key: Uint8Array): Promise<string> {
    const cached = this.safetyNumbers.get(peer);
    if (cached && bytesEqual(cached.key, key)) return cached.number;
    const number = await safetyNumber({ stableId: this.me.username, identityKey: this.me.identity.signing.publicRaw }, { stableId: peer, identityKey: key });
    this.safetyNumbers.set(peer, { key: new Uint8Array(key), number });
    return number;
  }

  setVerified(peer: string, verified: boolean): Promise<void> {
    return this.store.setVerified(peer, verified);
  }

  /**
   * The user accepts the contact's new safety number: pin the new key and, if the current
   * session is still with the old one, start a new session from the directory.
   */
  acceptNewKey(peer: string): Promise<void> {
    return this.serial(peer, async () => {
      const c = await this.store.contact(peer);
      if (!c?.pendingKey) return;
      await this.store.pin(peer, c.pendingKey);
      this.directory.markStale(peer);
      const current = await sessionIdentityKey(peer, this.deps);
      if (current && bytesEqual(current, c.pendingKey)) return;
      const bundle = bundleFromWire(await this.api.bundle(peer));
      if (!bytesEqual(bundle.identity.signingKey, c.pendingKey)) {
        // The directory moved on again since the warning: show the newest key instead.
        await this.store.markChanged(peer, bundle.identity.signingKey);
        return;
      }
      await startSession(peer, bundle, this.deps);
    });
  }
}

