// The server cannot vouch for keys (clients verify everything themselves), but it refuses what
// no honest client sends: points not on P-256, and signatures that do not verify under the
// identity key. A broken client then learns at once, instead of every contact rejecting it later.
import { webcrypto } from 'node:crypto';
import { WireError, dhKeySignedData, preKeySignedData, PQK_SIGNATURE_LABEL, SPK_SIGNATURE_LABEL } from '../../wire/index.ts';

const subtle = webcrypto.subtle;
const ECDSA = { name: 'ECDSA', hash: 'SHA-256' } as const;

async function verifyKey(signingKey: Uint8Array): Promise<webcrypto.CryptoKey | undefined> {
  try {
    return await subtle.importKey('raw', signingKey, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  } catch {
    return undefined;
  }
}

async function isP256Point(raw: Uint8Array): Promise<boolean> {
  try {
    await subtle.importKey('raw', raw, { name: 'ECDH', namedCurve: 'P-256' }, true, []);
    return true;
  } catch {
    return false;
  }
}

export async function assertIdentity(identity: { signingKey: Uint8Array; dhKey: Uint8Array; dhKeySignature: Uint8Array }): Promise<webcrypto.CryptoKey> {
  const ik = await verifyKey(identity.signingKey);
  const ok = ik && (await isP256Point(identity.dhKey)) && (await subtle.verify(ECDSA, ik, identity.dhKeySignature, dhKeySignedData(identity.dhKey)));
  if (!ok || !ik) throw new WireError('bad_request', 'identity: the keys are not valid P-256 keys signed by the identity key.');
  return ik;
}

export async function assertSignedPreKeys(
  ik: webcrypto.CryptoKey,
  signedPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array },
  pqPreKey: { id: number; publicKey: Uint8Array; signature: Uint8Array },
): Promise<void> {
  const spkOk =
    (await isP256Point(signedPreKey.publicKey)) &&
    (await subtle.verify(ECDSA, ik, signedPreKey.signature, preKeySignedData(SPK_SIGNATURE_LABEL, signedPreKey.id, signedPreKey.publicKey)));
  if (!spkOk) throw new WireError('bad_request', 'signedPreKey: not a P-256 key signed by the identity key.');
  const pqkOk = await subtle.verify(ECDSA, ik, pqPreKey.signature, preKeySignedData(PQK_SIGNATURE_LABEL, pqPreKey.id, pqPreKey.publicKey));
  if (!pqkOk) throw new WireError('bad_request', 'pqPreKey: not signed by the identity key.');
}

export async function assertOneTimePreKeys(keys: Array<{ publicKey: Uint8Array }>): Promise<void> {
  for (const k of keys) {
    if (!(await isP256Point(k.publicKey))) throw new WireError('bad_request', 'oneTimePreKeys: every key must be a P-256 point.');
  }
}

/** Whether `signature` over `data` verifies under the P-256 signing key `signingKey`. */
export async function signedBy(signingKey: Uint8Array, signature: Uint8Array, data: Uint8Array): Promise<boolean> {
  const key = await verifyKey(signingKey);
  if (!key || signature.length !== 64) return false;
  try {
    return await subtle.verify(ECDSA, key, signature, data);
  } catch {
    return false;
  }
}
