// A user's identity as the key directory publishes it: the ECDSA signing key IK, the ECDH key
// DK, and IK's signature over DK (DESIGN.md "Keys"). The signature binds DK to IK, so a server
// that swaps DK is caught even though the safety number, computed from IK, would not change.
// Knows nothing of storage or transport: keys in, verdicts out.
import type { Bytes } from '../crypto/bytes.ts';
import { importVerifyKey, sign, verify } from '../crypto/ecdsa.ts';
import { ProtocolError } from './errors.ts';

import { dhKeySignedData } from '../wire/signatures.ts';

export interface PublicIdentity {
  signingKey: Bytes;
  dhKey: Bytes;
  dhKeySignature: Bytes;
}

/** The private halves, as non-extractable CryptoKeys, with their public bytes. */
export interface LocalIdentity {
  signing: { privateKey: CryptoKey; publicRaw: Bytes };
  dh: { privateKey: CryptoKey; publicRaw: Bytes };
  dhKeySignature: Bytes;
}

export function signDhKey(signingPrivateKey: CryptoKey, dhPublicRaw: Uint8Array): Promise<Bytes> {
  return sign(signingPrivateKey, dhKeySignedData(dhPublicRaw));
}

export async function verifyPublicIdentity(identity: PublicIdentity): Promise<boolean> {
  let key: CryptoKey;
  try {
    key = await importVerifyKey(identity.signingKey);
  } catch {
    return false;
  }
  return verify(key, identity.dhKeySignature, dhKeySignedData(identity.dhKey));
}

export async function assertPublicIdentity(identity: PublicIdentity): Promise<void> {
  if (!(await verifyPublicIdentity(identity))) {
    throw new ProtocolError('bad_identity_signature', "the contact's keys are not signed by their identity key");
  }
}

export function publicIdentityOf(local: LocalIdentity): PublicIdentity {
  return { signingKey: local.signing.publicRaw, dhKey: local.dh.publicRaw, dhKeySignature: local.dhKeySignature };
}
