// Keeps this device's keys published (DESIGN.md "Keys"): on a device the directory does not
// know (first login here, or after another browser took over the account) it publishes the
// identity with a fresh signed prekey, ML-KEM prekey and 100 one-time prekeys; afterwards it
// rotates the signed and ML-KEM prekeys weekly, retires them 30 days after replacement, and
// refills one-time prekeys when fewer than 20 are left on the server.
import { bytesEqual } from '../../crypto/bytes.ts';
import { webRandom } from '../../crypto/random.ts';
import { encodeBase64url, decodeBase64url, type IdentityKeys, type PublishKeysRequest } from '../../wire/index.ts';
import { generateDh } from '../../protocol/dh.ts';
import { publicIdentityOf, type LocalIdentity } from '../../protocol/identity.ts';
import {
  generateOneTimePreKeys,
  generatePqPreKey,
  generateSignedPreKey,
  ONE_TIME_PREKEY_BATCH,
  planPreKeyMaintenance,
  type OneTimePreKeyRecord,
} from '../../protocol/prekeys.ts';
import type { ApiClient } from '../platform/api-client.ts';
import type { BrowserProtocolStore } from '../platform/protocol-stores.ts';

export function identityToWire(identity: LocalIdentity): IdentityKeys {
  const p = publicIdentityOf(identity);
  return { signingKey: encodeBase64url(p.signingKey), dhKey: encodeBase64url(p.dhKey), dhKeySignature: encodeBase64url(p.dhKeySignature) };
}

async function makeOneTime(store: BrowserProtocolStore, count: number): Promise<OneTimePreKeyRecord[]> {
  const first = await store.allocateIds('oneTime', count);
  const keys = await generateOneTimePreKeys(first, count, generateDh);
  await store.saveOneTimePreKeys(keys);
  return keys;
}

const oneTimeWire = (keys: OneTimePreKeyRecord[]) => keys.map((k) => ({ id: k.id, publicKey: encodeBase64url(k.keyPair.publicRaw) }));

/** Makes a new signed prekey and ML-KEM prekey (same id), stores them, returns them for upload. */
async function rotateSignedPreKeys(store: BrowserProtocolStore, identity: LocalIdentity, now: number) {
  const id = await store.allocateIds('signed', 1);
  const spk = await generateSignedPreKey(identity, id, now, generateDh);
  const pqk = await generatePqPreKey(identity, id, now, webRandom);
  await store.saveSignedPreKey(spk);
  await store.savePqPreKey(pqk);
  return {
    signedPreKey: { id, publicKey: encodeBase64url(spk.keyPair.publicRaw), signature: encodeBase64url(spk.signature) },
    pqPreKey: { id, publicKey: encodeBase64url(pqk.publicKey), signature: encodeBase64url(pqk.signature) },
  };
}

export async function maintainKeys(api: ApiClient, store: BrowserProtocolStore, identity: LocalIdentity, now = Date.now()): Promise<void> {
  const status = await api.keyStatus();
  const published = status.identity;
  const ours = identityToWire(identity);
  const sameIdentity =
    published !== null &&
    bytesEqual(decodeBase64url(published.signingKey) ?? new Uint8Array(), identity.signing.publicRaw) &&
    bytesEqual(decodeBase64url(published.dhKey) ?? new Uint8Array(), identity.dh.publicRaw);
  const local = await store.listSignedPreKeys();

  if (!sameIdentity || status.signedPreKeyId === null || !local.some((k) => k.id === status.signedPreKeyId)) {
    // The directory does not hold this device's keys: publish everything afresh.
    const signed = await rotateSignedPreKeys(store, identity, now);
    const oneTime = await makeOneTime(store, ONE_TIME_PREKEY_BATCH);
    const body: PublishKeysRequest = { identity: ours, ...signed, oneTimePreKeys: oneTimeWire(oneTime) };
    await api.publishKeys(body);
    return;
  }

  const plan = planPreKeyMaintenance(local, status.oneTimePreKeys, now);
  if (plan.rotate) await api.publishKeys({ identity: ours, ...(await rotateSignedPreKeys(store, identity, now)), oneTimePreKeys: [] });
  for (const id of plan.retire) {
    await store.deleteSignedPreKey(id);
    await store.deletePqPreKey(id);
  }
  if (plan.oneTimeToAdd > 0) await api.addOneTimePreKeys({ oneTimePreKeys: oneTimeWire(await makeOneTime(store, plan.oneTimeToAdd)) });
}
