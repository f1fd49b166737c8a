// The browser's identity keys, per account, in IndexedDB. Private halves are generated
// non-extractable and stored as CryptoKey objects (structured clone keeps that flag), so no
// script, ours included, can read their bytes; they can only be used to sign and derive.
import { generateEcdhKeyPair } from '../../crypto/ecdh.ts';
import { generateSigningKeyPair } from '../../crypto/ecdsa.ts';
import { signDhKey, type LocalIdentity } from '../../protocol/identity.ts';
import { idbDelete, idbGet, idbPut } from './idb.ts';

export async function createIdentity(): Promise<LocalIdentity> {
  const signing = await generateSigningKeyPair(false);
  const dh = await generateEcdhKeyPair(false);
  const dhKeySignature = await signDhKey(signing.privateKey, dh.publicRaw);
  return {
    signing: { privateKey: signing.privateKey, publicRaw: signing.publicRaw },
    dh: { privateKey: dh.privateKey, publicRaw: dh.publicRaw },
    dhKeySignature,
  };
}

export function loadIdentity(userId: string): Promise<LocalIdentity | undefined> {
  return idbGet<LocalIdentity>('identity', userId);
}

export function saveIdentity(userId: string, identity: LocalIdentity): Promise<void> {
  return idbPut('identity', userId, identity);
}

export function forgetIdentity(userId: string): Promise<void> {
  return idbDelete('identity', userId);
}

/** Which of the account's browsers this is (issue #17): "1" for the browser that made the account. */
export async function loadDeviceId(userId: string): Promise<string> {
  return (await idbGet<string>('meta', [userId, 'device-id'])) ?? '1';
}

export function saveDeviceId(userId: string, device: string): Promise<void> {
  return idbPut('meta', [userId, 'device-id'], device);
}
