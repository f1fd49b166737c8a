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
import { open, seal, sessionIdentityKey, startSession, type SessionDeps } from '../../protocol/session-cipher.ts';
import type { ApiClient } from '../platform/api-client.ts';
import type { BrowserProtocolStore, ContactKeys } from '../platform/protocol-stores.ts';

export interface ContactSecurity {
  /** 60 digits, or null until a key for the contact is known. */
  safetyNumber: string | null;
  verified: boolean;
  /** The contact's identity key changed and the user has not accepted it: sending is blocked. */
  keyChanged: boolean;
  /** The contact had been verified before the change (the warning says so, loudly). */
  wasVerified: boolean;
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
    private readonly me: { username: string; identity: LocalIdentity },
    private readonly store: BrowserProtocolStore,
    private readonly api: ApiClient,
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
      const trust = await this.store.trustOf(peer, directoryKey);
      if (trust === 'changed') {
        await this.store.markChanged(peer, directoryKey);
        return;
      }
      const current = await sessionIdentityKey(peer, this.deps);
      if (current && bytesEqual(current, directoryKey)) return;
      await startSession(peer, bundleFromWire(await this.api.bundle(peer)), this.deps);
    });
  }

  /** Refuses (identity_changed) while the contact has a new key the user has not accepted. */
  seal(peer: string, p: Payload): Promise<Bytes> {
    return this.serial(peer, async () => {
      if ((await this.store.contact(peer))?.pendingKey) throw new ProtocolError('identity_changed', `the safety number with ${peer} has changed`);
      return seal(peer, utf8(JSON.stringify(p)), this.deps);
    });
  }

  /**
   * Decrypts an envelope and, in the same IndexedDB transaction as the new ratchet state,
   * applies what it says (`alongside`). Throws ProtocolError for anything that does not decrypt
   * to a valid payload; then nothing at all is written.
   */
  receive<T>(peer: string, envelope: Uint8Array, alongside: (tx: IDBTransaction, payload: Payload) => Promise<T>): Promise<Received<T>> {
    return this.serial(peer, async () => {
      let payload: Payload | undefined;
      let effect: T | undefined;
      const opened = await open(peer, envelope, this.deps, async (record, plaintext) => {
        const p = parsePayload(plaintext);
        effect = await this.store.commitSession(peer, record, (tx) => alongside(tx, p));
        payload = p;
      });
      if (opened.trust === 'changed') await this.store.markChanged(peer, opened.identityKey);
      return { payload: payload!, keyChanged: opened.trust === 'changed', effect: effect as T };
    });
  }

  hasSession(peer: string): Promise<boolean> {
    return this.serial(peer, async () => Boolean(await sessionIdentityKey(peer, this.deps)));
  }

  async security(peer: string): Promise<ContactSecurity> {
    const c: ContactKeys | undefined = await this.store.contact(peer);
    const key = c?.pendingKey ?? c?.pinnedKey;
    return {
      safetyNumber: key ? await this.safetyNumberWith(peer, key) : null,
      verified: c?.verified ?? false,
      keyChanged: Boolean(c?.pendingKey),
      wasVerified: c?.wasVerified ?? false,
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

