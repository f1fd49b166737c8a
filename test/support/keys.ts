// Prekeys made with the real protocol code, as the browser publishes them.
import { encodeBase64url, type PreKeyBundleResponse, type PublishKeysRequest } from '../../src/wire/index.ts';
import { decodeBase64url } from '../../src/wire/base64url.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { generateDh } from '../../src/protocol/dh.ts';
import { generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey, type PreKeyBundle } from '../../src/protocol/prekeys.ts';
import type { LocalIdentity } from '../../src/protocol/identity.ts';
import { identityToWire, makeIdentity } from './identity.ts';

export async function keyUpload(options: { identity?: LocalIdentity; oneTime?: number; firstOneTimeId?: number; spkId?: number } = {}): Promise<{ identity: LocalIdentity; body: PublishKeysRequest }> {
  const identity = options.identity ?? (await makeIdentity());
  const spk = await generateSignedPreKey(identity, options.spkId ?? 1, Date.now(), generateDh);
  const pqk = await generatePqPreKey(identity, options.spkId ?? 1, Date.now(), webRandom);
  const opks = await generateOneTimePreKeys(options.firstOneTimeId ?? 1, options.oneTime ?? 10, generateDh);
  return {
    identity,
    body: {
      identity: identityToWire(identity),
      signedPreKey: { id: spk.id, publicKey: encodeBase64url(spk.keyPair.publicRaw), signature: encodeBase64url(spk.signature) },
      pqPreKey: { id: pqk.id, publicKey: encodeBase64url(pqk.publicKey), signature: encodeBase64url(pqk.signature) },
      oneTimePreKeys: opks.map((k) => ({ id: k.id, publicKey: encodeBase64url(k.keyPair.publicRaw) })),
    },
  };
}

export function bundleFromWire(b: PreKeyBundleResponse): PreKeyBundle {
  const d = (s: string) => decodeBase64url(s)!;
  return {
    identity: { signingKey: d(b.identity.signingKey), dhKey: d(b.identity.dhKey), dhKeySignature: d(b.identity.dhKeySignature) },
    signedPreKey: { id: b.signedPreKey.id, publicKey: d(b.signedPreKey.publicKey), signature: d(b.signedPreKey.signature) },
    pqPreKey: { id: b.pqPreKey.id, publicKey: d(b.pqPreKey.publicKey), signature: d(b.pqPreKey.signature) },
    ...(b.oneTimePreKey ? { oneTimePreKey: { id: b.oneTimePreKey.id, publicKey: d(b.oneTimePreKey.publicKey) } } : {}),
  };
}
