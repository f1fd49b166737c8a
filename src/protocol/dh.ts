// Diffie-Hellman key pairs as the protocol uses them: a private CryptoKey and the public point.
// Key generation is a dependency (`GenerateDh`) so tests can supply fixed keys and produce
// byte-identical transcripts; the default makes non-extractable keys with Web Crypto.
import type { Bytes } from '../crypto/bytes.ts';
import { ecdh, generateEcdhKeyPair, importEcdhPublic } from '../crypto/ecdh.ts';
import { ProtocolError } from './errors.ts';

export interface DhKeyPair {
  privateKey: CryptoKey;
  publicRaw: Bytes;
}

export type GenerateDh = () => Promise<DhKeyPair>;

export const generateDh: GenerateDh = async () => {
  const pair = await generateEcdhKeyPair(false);
  return { privateKey: pair.privateKey, publicRaw: pair.publicRaw };
};

/** DH(private, public) with a public point from the network, refusing points not on P-256. */
export async function dh(privateKey: CryptoKey, publicRaw: Uint8Array): Promise<Bytes> {
  let publicKey: CryptoKey;
  try {
    publicKey = await importEcdhPublic(publicRaw);
  } catch {
    throw new ProtocolError('bad_public_key', 'a public key is not a valid P-256 point');
  }
  return ecdh(privateKey, publicKey);
}
