// Fresh identities for tests, made the way the browser makes them.
import { encodeBase64url, type IdentityKeys } from '../../src/wire/index.ts';
import { generateEcdhKeyPair } from '../../src/crypto/ecdh.ts';
import { generateSigningKeyPair } from '../../src/crypto/ecdsa.ts';
import { publicIdentityOf, signDhKey, type LocalIdentity } from '../../src/protocol/identity.ts';

export async function makeIdentity(): Promise<LocalIdentity> {
  const signing = await generateSigningKeyPair(false);
  const dh = await generateEcdhKeyPair(false);
  return {
    signing: { privateKey: signing.privateKey, publicRaw: signing.publicRaw },
    dh: { privateKey: dh.privateKey, publicRaw: dh.publicRaw },
    dhKeySignature: await signDhKey(signing.privateKey, dh.publicRaw),
  };
}

export function identityToWire(identity: LocalIdentity): IdentityKeys {
  const p = publicIdentityOf(identity);
  return { signingKey: encodeBase64url(p.signingKey), dhKey: encodeBase64url(p.dhKey), dhKeySignature: encodeBase64url(p.dhKeySignature) };
}

export async function wireIdentity(): Promise<IdentityKeys> {
  return identityToWire(await makeIdentity());
}
