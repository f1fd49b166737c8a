// Alice and Bob for protocol tests: identities, prekeys, in-memory stores and a bundle the way
// the key directory would hand it out. Runs in Node and in the browser (no node: imports), and
// can be made fully deterministic: seeded randomness and seeded key pairs give byte-identical
// transcripts (the golden vectors). Test helpers only; nothing here ships.
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, u32be, utf8, type Bytes } from '../../src/crypto/bytes.ts';
import { webRandom, type RandomSource } from '../../src/crypto/random.ts';
import { generateDh as webGenerateDh, type DhKeyPair, type GenerateDh } from '../../src/protocol/dh.ts';
import { signDhKey, type LocalIdentity, type PublicIdentity } from '../../src/protocol/identity.ts';
import { MemoryIdentityStore, MemoryPreKeyStore, MemorySessionStore } from '../../src/protocol/memory-stores.ts';
import { generateOneTimePreKeys, generatePqPreKey, generateSignedPreKey, type PreKeyBundle } from '../../src/protocol/prekeys.ts';
import { startSession, type SessionDeps } from '../../src/protocol/session-cipher.ts';
import { generateEcdhKeyPair } from '../../src/crypto/ecdh.ts';
import { generateSigningKeyPair } from '../../src/crypto/ecdsa.ts';
import { dhKeySignedData } from '../../src/wire/signatures.ts';

/** A deterministic byte stream: SHA-256(seed ‖ counter) blocks. For tests only. */
export function seededRandom(seed: string): RandomSource {
  const seedBytes = utf8(seed);
  let counter = 0;
  let pool = new Uint8Array(0);
  return (length) => {
    while (pool.length < length) pool = concatBytes(pool, sha256(concatBytes(seedBytes, u32be(counter++))));
    const out = pool.slice(0, length);
    pool = pool.slice(length);
    return out;
  };
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function scalarFrom(random: RandomSource): Bytes {
  for (;;) {
    const candidate = random(32);
    if (p256.utils.isValidSecretKey(candidate)) return candidate;
  }
}

function jwkFor(secret: Uint8Array): JsonWebKey {
  const pub = p256.getPublicKey(secret, false);
  return { kty: 'EC', crv: 'P-256', d: b64url(secret), x: b64url(pub.subarray(1, 33)), y: b64url(pub.subarray(33)), ext: false };
}

/** Key pairs whose private scalars come from `random`: the same seed gives the same keys. */
export function seededGenerateDh(random: RandomSource): GenerateDh {
  return async () => {
    const secret = scalarFrom(random);
    const privateKey = await crypto.subtle.importKey('jwk', jwkFor(secret), { name: 'ECDH', namedCurve: 'P-256' }, false, ['deriveBits']);
    return { privateKey, publicRaw: new Uint8Array(p256.getPublicKey(secret, false)) };
  };
}

/** An identity whose keys and signature (RFC 6979, deterministic) come from `random`. */
export async function seededIdentity(random: RandomSource): Promise<LocalIdentity> {
  const ikSecret = scalarFrom(random);
  const signingPrivate = await crypto.subtle.importKey('jwk', jwkFor(ikSecret), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
  const dh = await seededGenerateDh(random)();
  const dhKeySignature = new Uint8Array(p256.sign(dhKeySignedData(dh.publicRaw), ikSecret));
  return { signing: { privateKey: signingPrivate, publicRaw: new Uint8Array(p256.getPublicKey(ikSecret, false)) }, dh, dhKeySignature };
}

export async function randomIdentity(): Promise<LocalIdentity> {
  const signing = await generateSigningKeyPair(false);
  const dh = await generateEcdhKeyPair(false);
  return {
    signing: { privateKey: signing.privateKey, publicRaw: signing.publicRaw },
    dh: { privateKey: dh.privateKey, publicRaw: dh.publicRaw },
    dhKeySignature: await signDhKey(signing.privateKey, dh.publicRaw),
  };
}

export interface Clock {
  now: number;
}

export interface Party {
  name: string;
  identity: LocalIdentity;
  publicIdentity: PublicIdentity;
  identities: MemoryIdentityStore;
  preKeys: MemoryPreKeyStore;
  sessions: MemorySessionStore;
  deps: SessionDeps;
  /** Hands out a bundle as the directory would: the next unused one-time prekey, if any left. */
  bundle(options?: { withOneTime?: boolean }): PreKeyBundle;
}

export async function createParty(
  name: string,
  options: { random?: RandomSource; generateDh?: GenerateDh; clock?: Clock; identity?: LocalIdentity; oneTimeCount?: number } = {},
): Promise<Party> {
  const random = options.random ?? webRandom;
  const generateDh = options.generateDh ?? webGenerateDh;
  const clock = options.clock ?? { now: Date.UTC(2026, 0, 1) };
  const identity = options.identity ?? (options.random ? await seededIdentity(random) : await randomIdentity());
  const identities = new MemoryIdentityStore(identity);
  const preKeys = new MemoryPreKeyStore();
  const spk = await generateSignedPreKey(identity, 1, clock.now, generateDh);
  const pqk = await generatePqPreKey(identity, 1, clock.now, random);
  preKeys.signed.set(spk.id, spk);
  preKeys.pq.set(pqk.id, pqk);
  const opks = await generateOneTimePreKeys(1, options.oneTimeCount ?? 5, generateDh);
  for (const k of opks) preKeys.oneTime.set(k.id, k);
  const directoryOneTime: Array<{ id: number; keyPair: DhKeyPair }> = [...opks];
  const publicIdentity = { signingKey: identity.signing.publicRaw, dhKey: identity.dh.publicRaw, dhKeySignature: identity.dhKeySignature };
  const sessions = new MemorySessionStore();
  return {
    name,
    identity,
    publicIdentity,
    identities,
    preKeys,
    sessions,
    deps: { identities, preKeys, sessions, random, now: () => clock.now, generateDh },
    bundle({ withOneTime = true } = {}) {
      const opk = withOneTime ? directoryOneTime.shift() : undefined;
      return {
        identity: publicIdentity,
        signedPreKey: { id: spk.id, publicKey: spk.keyPair.publicRaw, signature: spk.signature },
        pqPreKey: { id: pqk.id, publicKey: pqk.publicKey, signature: pqk.signature },
        ...(opk ? { oneTimePreKey: { id: opk.id, publicKey: opk.keyPair.publicRaw } } : {}),
      };
    },
  };
}

/** Alice and Bob, Alice having started a session from Bob's bundle (nothing sent yet). */
export async function startedPair(): Promise<[Party, Party]> {
  const alice = await createParty('alice');
  const bob = await createParty('bob');
  await startSession('bob', bob.bundle(), alice.deps);
  return [alice, bob];
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
