// Asynchronous session start (DESIGN.md "Session start"), modelled on Signal's X3DH (rev. 1,
// §3.3) and PQXDH (rev. 3, §3.3) with P-256 and a separate signing key:
//
//   DH1 = DH(DK_A, SPK_B)   DH2 = DH(EK_A, DK_B)   DH3 = DH(EK_A, SPK_B)   DH4 = DH(EK_A, OPK_B)
//   (CT, SS) = ML-KEM-768.Encaps(PQK_B)
//   SK = HKDF-SHA-256(salt = 0^32, ikm = F ‖ DH1 ‖ DH2 ‖ DH3 ‖ [DH4] ‖ SS, info, 32 bytes)
//   AD = IK_A ‖ DK_A ‖ IK_B ‖ DK_B
//
// F is 32 0xFF bytes (X3DH §2.2: it separates these inputs from any other use of the same
// keys). DH4 is present exactly when Bob's bundle had a one-time prekey. The initiator then
// starts the Double Ratchet with Bob's SPK as his first ratchet key (X3DH §3.3, last step).
import { concatBytes, utf8, type Bytes } from '../crypto/bytes.ts';
import { hkdfSha256 } from '../crypto/hkdf.ts';
import { kemDecapsulate, kemEncapsulate, KEM_ENCAPS_RANDOM_BYTES } from '../crypto/kem.ts';
import type { RandomSource } from '../crypto/random.ts';
import { dh, type GenerateDh } from './dh.ts';
import { ProtocolError } from './errors.ts';
import { assertPublicIdentity, type LocalIdentity, type PublicIdentity } from './identity.ts';
import { verifyBundle, type OneTimePreKeyRecord, type PqPreKeyRecord, type PreKeyBundle, type SignedPreKeyRecord } from './prekeys.ts';

export const SESSION_INFO = utf8('Parley v1 P-256 ML-KEM-768');
const F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

/** What Alice's first message carries so Bob can compute the same SK. */
export interface InitialInfo {
  identity: PublicIdentity;
  ephemeralKey: Bytes;
  signedPreKeyId: number;
  oneTimePreKeyId: number | null;
  pqPreKeyId: number;
  kemCiphertext: Bytes;
}

export interface SessionSecrets {
  sharedKey: Bytes;
  associatedData: Bytes;
}

export function associatedData(initiator: PublicIdentity, responder: PublicIdentity): Bytes {
  return concatBytes(initiator.signingKey, initiator.dhKey, responder.signingKey, responder.dhKey);
}

async function deriveSharedKey(dhs: Uint8Array[], kemSecret: Uint8Array): Promise<Bytes> {
  return hkdfSha256(concatBytes(F, ...dhs, kemSecret), ZERO_SALT, SESSION_INFO, 32);
}

/** Alice's side. Verifies the bundle's signatures before using any key in it. */
export async function initiateSession(params: {
  me: LocalIdentity;
  bundle: PreKeyBundle;
  random: RandomSource;
  generateDh: GenerateDh;
}): Promise<SessionSecrets & { initial: InitialInfo; remoteRatchetKey: Bytes }> {
  const { me, bundle, random, generateDh } = params;
  await verifyBundle(bundle);
  const ek = await generateDh();
  const dhs = [
    await dh(me.dh.privateKey, bundle.signedPreKey.publicKey),
    await dh(ek.privateKey, bundle.identity.dhKey),
    await dh(ek.privateKey, bundle.signedPreKey.publicKey),
  ];
  if (bundle.oneTimePreKey) dhs.push(await dh(ek.privateKey, bundle.oneTimePreKey.publicKey));
  let kem;
  try {
    kem = kemEncapsulate(bundle.pqPreKey.publicKey, random(KEM_ENCAPS_RANDOM_BYTES));
  } catch {
    throw new ProtocolError('bad_public_key', "the contact's post-quantum prekey is malformed");
  }
  const sharedKey = await deriveSharedKey(dhs, kem.sharedSecret);
  const mine: PublicIdentity = { signingKey: me.signing.publicRaw, dhKey: me.dh.publicRaw, dhKeySignature: me.dhKeySignature };
  return {
    sharedKey,
    associatedData: associatedData(mine, bundle.identity),
    remoteRatchetKey: bundle.signedPreKey.publicKey,
    initial: {
      identity: mine,
      ephemeralKey: ek.publicRaw,
      signedPreKeyId: bundle.signedPreKey.id,
      oneTimePreKeyId: bundle.oneTimePreKey?.id ?? null,
      pqPreKeyId: bundle.pqPreKey.id,
      kemCiphertext: kem.ciphertext,
    },
  };
}

/** Bob's side, given the prekeys the initial message names (looked up by the caller). */
export async function respondToSession(params: {
  me: LocalIdentity;
  initial: InitialInfo;
  signedPreKey: SignedPreKeyRecord;
  oneTimePreKey: OneTimePreKeyRecord | undefined;
  pqPreKey: PqPreKeyRecord;
}): Promise<SessionSecrets> {
  const { me, initial, signedPreKey, oneTimePreKey, pqPreKey } = params;
  // Alice's DK must be signed by her IK, or a server could swap it unseen by the safety number.
  await assertPublicIdentity(initial.identity);
  const dhs = [
    await dh(signedPreKey.keyPair.privateKey, initial.identity.dhKey),
    await dh(me.dh.privateKey, initial.ephemeralKey),
    await dh(signedPreKey.keyPair.privateKey, initial.ephemeralKey),
  ];
  if (oneTimePreKey) dhs.push(await dh(oneTimePreKey.keyPair.privateKey, initial.ephemeralKey));
  const sharedSecret = kemDecapsulate(initial.kemCiphertext, pqPreKey.secretKey);
  const sharedKey = await deriveSharedKey(dhs, sharedSecret);
  const mine: PublicIdentity = { signingKey: me.signing.publicRaw, dhKey: me.dh.publicRaw, dhKeySignature: me.dhKeySignature };
  return { sharedKey, associatedData: associatedData(initial.identity, mine) };
}
