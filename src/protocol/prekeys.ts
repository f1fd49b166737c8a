// Prekeys (DESIGN.md "Keys"; Signal X3DH §3.2 and PQXDH §3.2): a signed prekey SPK rotated
// weekly and kept 30 days after, 100 one-time prekeys refilled below 20, and a signed ML-KEM-768
// "last resort" prekey rotated with the SPK. Signatures are made by the identity signing key IK
// over a label, the key id and the public key, so the server can neither swap a key nor pass one
// id off as another. Knows nothing of storage or the server; callers persist what it returns.
import type { Bytes } from '../crypto/bytes.ts';
import { preKeySignedData, PQK_SIGNATURE_LABEL, SPK_SIGNATURE_LABEL } from '../wire/signatures.ts';
import { importVerifyKey, sign, verify } from '../crypto/ecdsa.ts';
import { kemKeygen, KEM_KEYGEN_SEED_BYTES, KEM_PUBLIC_KEY_BYTES } from '../crypto/kem.ts';
import type { RandomSource } from '../crypto/random.ts';
import type { DhKeyPair, GenerateDh } from './dh.ts';
import { ProtocolError } from './errors.ts';
import { assertPublicIdentity, type LocalIdentity, type PublicIdentity } from './identity.ts';


const DAY = 86_400_000;
export const SIGNED_PREKEY_ROTATE_MS = 7 * DAY;
export const SIGNED_PREKEY_KEEP_MS = 30 * DAY;
export const ONE_TIME_PREKEY_BATCH = 100;
export const ONE_TIME_PREKEY_REFILL_BELOW = 20;
/** Ids are u32 on the wire; 0 is never used so "no one-time prekey" needs no flag. */
export const MAX_PREKEY_ID = 0xfffffffe;

export interface SignedPreKeyRecord {
  id: number;
  keyPair: DhKeyPair;
  signature: Bytes;
  createdAt: number;
}

export interface OneTimePreKeyRecord {
  id: number;
  keyPair: DhKeyPair;
}

export interface PqPreKeyRecord {
  id: number;
  publicKey: Bytes;
  secretKey: Bytes;
  signature: Bytes;
  createdAt: number;
}

/** What the key directory hands out for one user: public halves and signatures only. */
export interface PreKeyBundle {
  identity: PublicIdentity;
  signedPreKey: { id: number; publicKey: Bytes; signature: Bytes };
  pqPreKey: { id: number; publicKey: Bytes; signature: Bytes };
  oneTimePreKey?: { id: number; publicKey: Bytes };
}

function checkId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > MAX_PREKEY_ID) throw new RangeError('prekey id out of range');
}

export async function generateSignedPreKey(identity: LocalIdentity, id: number, now: number, generateDh: GenerateDh): Promise<SignedPreKeyRecord> {
  checkId(id);
  const keyPair = await generateDh();
  const signature = await sign(identity.signing.privateKey, preKeySignedData(SPK_SIGNATURE_LABEL, id, keyPair.publicRaw));
  return { id, keyPair, signature, createdAt: now };
}

export async function generateOneTimePreKeys(firstId: number, count: number, generateDh: GenerateDh): Promise<OneTimePreKeyRecord[]> {
  const out: OneTimePreKeyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const id = ((firstId - 1 + i) % MAX_PREKEY_ID) + 1;
    out.push({ id, keyPair: await generateDh() });
  }
  return out;
}

export async function generatePqPreKey(identity: LocalIdentity, id: number, now: number, random: RandomSource): Promise<PqPreKeyRecord> {
  checkId(id);
  const { publicKey, secretKey } = kemKeygen(random(KEM_KEYGEN_SEED_BYTES));
  const signature = await sign(identity.signing.privateKey, preKeySignedData(PQK_SIGNATURE_LABEL, id, publicKey));
  return { id, publicKey, secretKey, signature, createdAt: now };
}

/** Checks every signature in a bundle before any of its keys is used (X3DH §3.3). */
export async function verifyBundle(bundle: PreKeyBundle): Promise<void> {
  await assertPublicIdentity(bundle.identity);
  let ik: CryptoKey;
  try {
    ik = await importVerifyKey(bundle.identity.signingKey);
  } catch {
    throw new ProtocolError('bad_public_key', "the contact's identity key is not a valid P-256 point");
  }
  const spk = bundle.signedPreKey;
  const pqk = bundle.pqPreKey;
  const ok =
    pqk.publicKey.length === KEM_PUBLIC_KEY_BYTES &&
    (await verify(ik, spk.signature, preKeySignedData(SPK_SIGNATURE_LABEL, spk.id, spk.publicKey))) &&
    (await verify(ik, pqk.signature, preKeySignedData(PQK_SIGNATURE_LABEL, pqk.id, pqk.publicKey)));
  if (!ok) throw new ProtocolError('bad_prekey_signature', "the contact's prekeys are not signed by their identity key");
}

export interface MaintenancePlan {
  /** Make and publish a new signed prekey and PQ prekey (none yet, or the newest is a week old). */
  rotate: boolean;
  /** Signed/PQ prekey ids old enough to delete: replaced more than 30 days ago. */
  retire: number[];
  /** One-time prekeys to generate and upload. */
  oneTimeToAdd: number;
}

/**
 * What prekey upkeep is due. `signedPreKeys` are the ones this device holds, `serverOneTimeCount`
 * is what the directory says it has left.
 */
export function planPreKeyMaintenance(signedPreKeys: Array<{ id: number; createdAt: number }>, serverOneTimeCount: number, now: number): MaintenancePlan {
  const sorted = [...signedPreKeys].sort((a, b) => b.createdAt - a.createdAt);
  const newest = sorted[0];
  const rotate = !newest || now - newest.createdAt >= SIGNED_PREKEY_ROTATE_MS;
  // A key stays usable for 30 days after the one that replaced it was made: messages started
  // against it may still be in flight or queued.
  const retire: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    if (now - sorted[i - 1]!.createdAt >= SIGNED_PREKEY_KEEP_MS) retire.push(sorted[i]!.id);
  }
  const oneTimeToAdd = serverOneTimeCount < ONE_TIME_PREKEY_REFILL_BELOW ? ONE_TIME_PREKEY_BATCH - serverOneTimeCount : 0;
  return { rotate, retire, oneTimeToAdd };
}
