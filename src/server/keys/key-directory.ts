// The key directory (DESIGN.md "Keys"): publishes identities and prekeys, hands out bundles,
// each one-time prekey exactly once. Holds public halves and signatures only.
import {
  WireError,
  MAX_ONE_TIME_PREKEYS_STORED,
  decodeBase64url,
  encodeBase64url,
  normalizeUsername,
  FIRST_DEVICE_ID,
  type AddOneTimePreKeysRequest,
  type KeyStatusResponse,
  type PreKeyBundleResponse,
  type PublishKeysRequest,
} from '../../wire/index.ts';
import type { Store } from '../store/types.ts';
import { identityFromWire, identityToWire } from '../auth/account-service.ts';
import { assertIdentity, assertOneTimePreKeys, assertSignedPreKeys } from './verify.ts';

const bytes = (b64: string) => decodeBase64url(b64)!;
const b64 = encodeBase64url;
const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export class KeyDirectory {
  constructor(private readonly store: Store) {}

  /**
   * Publishes a browser's keys. Browser 1 may publish a new identity (new keys: contacts see a
   * new safety number); any other browser publishes the identity its account's list gave it.
   */
  async publish(userId: string, req: PublishKeysRequest, now = Date.now(), device = FIRST_DEVICE_ID): Promise<{ oneTimePreKeys: number }> {
    const identity = identityFromWire(req.identity, now);
    const ik = await assertIdentity(identity);
    if (device !== FIRST_DEVICE_ID) {
      const listed = await this.store.identities.get(userId, device);
      if (!listed || !same(listed.signingKey, identity.signingKey) || !same(listed.dhKey, identity.dhKey)) {
        throw new WireError('bad_request', "These keys are not the ones this browser was linked with.");
      }
    }
    const signed = {
      signedPreKey: { id: req.signedPreKey.id, publicKey: bytes(req.signedPreKey.publicKey), signature: bytes(req.signedPreKey.signature) },
      pqPreKey: { id: req.pqPreKey.id, publicKey: bytes(req.pqPreKey.publicKey), signature: bytes(req.pqPreKey.signature) },
      updatedAt: now,
    };
    await assertSignedPreKeys(ik, signed.signedPreKey, signed.pqPreKey);
    const oneTime = req.oneTimePreKeys.map((k) => ({ id: k.id, publicKey: bytes(k.publicKey) }));
    await assertOneTimePreKeys(oneTime);
    await this.store.identities.put(userId, identity, device);
    await this.store.preKeys.putSigned(userId, signed, device);
    return { oneTimePreKeys: await this.store.preKeys.addOneTime(userId, oneTime, MAX_ONE_TIME_PREKEYS_STORED, device) };
  }

  async addOneTime(userId: string, req: AddOneTimePreKeysRequest, device = FIRST_DEVICE_ID): Promise<{ oneTimePreKeys: number }> {
    if (!(await this.store.identities.get(userId, device))) throw new WireError('bad_request', 'Publish your identity and signed prekey first.');
    const oneTime = req.oneTimePreKeys.map((k) => ({ id: k.id, publicKey: bytes(k.publicKey) }));
    await assertOneTimePreKeys(oneTime);
    return { oneTimePreKeys: await this.store.preKeys.addOneTime(userId, oneTime, MAX_ONE_TIME_PREKEYS_STORED, device) };
  }

  async status(userId: string, device = FIRST_DEVICE_ID): Promise<KeyStatusResponse> {
    const [identity, signed, count] = await Promise.all([
      this.store.identities.get(userId, device),
      this.store.preKeys.getSigned(userId, device),
      this.store.preKeys.countOneTime(userId, device),
    ]);
    return {
      identity: identity ? identityToWire(identity) : null,
      signedPreKeyId: signed?.signedPreKey.id ?? null,
      pqPreKeyId: signed?.pqPreKey.id ?? null,
      oneTimePreKeys: count,
    };
  }

  /** A bundle for one browser of `username`, with one of its one-time prekeys if any are left. */
  async bundle(username: string, device = FIRST_DEVICE_ID): Promise<PreKeyBundleResponse | undefined> {
    const name = normalizeUsername(username);
    if (!name.ok) return undefined;
    const user = await this.store.users.findByUsername(name.username);
    if (!user) return undefined;
    const [identity, signed] = await Promise.all([this.store.identities.get(user.id, device), this.store.preKeys.getSigned(user.id, device)]);
    if (!identity || !signed) return undefined;
    const oneTime = await this.store.preKeys.takeOneTime(user.id, device);
    return {
      username: user.username,
      identity: identityToWire(identity),
      signedPreKey: { id: signed.signedPreKey.id, publicKey: b64(signed.signedPreKey.publicKey), signature: b64(signed.signedPreKey.signature) },
      pqPreKey: { id: signed.pqPreKey.id, publicKey: b64(signed.pqPreKey.publicKey), signature: b64(signed.pqPreKey.signature) },
      ...(oneTime ? { oneTimePreKey: { id: oneTime.id, publicKey: b64(oneTime.publicKey) } } : {}),
    };
  }
}
