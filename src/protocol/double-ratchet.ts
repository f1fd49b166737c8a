// The Double Ratchet (Signal specification "The Double Ratchet Algorithm", rev. 4, §3) with
// P-256 ratchet keys and AES-256-GCM. Every function takes a state and returns a new one; the
// input is never changed, so a message that fails to decrypt leaves the session exactly as it
// was (§3.5: "if an exception is raised… discard any changes to the state"). Persisting the new
// state before showing or acknowledging a message is the caller's job.
//
// Encryption: the message key from KDF_CK is the AES-256-GCM key; the IV is 96 fresh random
// bits per message; associated data is AD ‖ encoded header (§3.1 ENCRYPT, with GCM in place of
// the recommended CBC+HMAC). Message keys are used once and deleted. Skipped keys are kept for
// out-of-order delivery: at most MAX_SKIP per chain (§3.5 MAX_SKIP), at most a week each.
import { bytesEqual, concatBytes, type Bytes } from '../crypto/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt, GCM_IV_BYTES } from '../crypto/aead.ts';
import type { RandomSource } from '../crypto/random.ts';
import { dh, type DhKeyPair, type GenerateDh } from './dh.ts';
import { ProtocolError } from './errors.ts';
import { encodeHeader, type Header } from './header.ts';
import { kdfCk, kdfRk, type ChainKey, type MessageKey, type RootKey } from './kdf.ts';

export const MAX_SKIP = 1000;
export const SKIPPED_KEY_TTL_MS = 7 * 86_400_000;
/** Across all chains: a bound on memory even if many chains each skip up to MAX_SKIP. */
export const MAX_SKIPPED_TOTAL = 2000;
/** Earlier receiving ratchet keys remembered, to tell a late duplicate from garbage. */
const PAST_CHAINS_REMEMBERED = 8;

export interface SkippedKey {
  dh: Bytes;
  n: number;
  messageKey: MessageKey;
  storedAt: number;
}

export interface RatchetState {
  dhs: DhKeyPair;
  dhr: Bytes | null;
  rk: RootKey;
  cks: ChainKey | null;
  ckr: ChainKey | null;
  ns: number;
  nr: number;
  pn: number;
  skipped: SkippedKey[];
  pastReceivingKeys: Bytes[];
}

export interface RatchetDeps {
  generateDh: GenerateDh;
  random: RandomSource;
  now: number;
}

export interface Sealed {
  header: Header;
  iv: Bytes;
  ciphertext: Bytes;
}

/** §3.3 RatchetInitAlice: SK from session start, Bob's signed prekey as his first ratchet key. */
export async function initAlice(sharedKey: Uint8Array, bobRatchetKey: Uint8Array, generateDhKey: GenerateDh): Promise<RatchetState> {
  const dhs = await generateDhKey();
  const { rootKey, chainKey } = await kdfRk(new Uint8Array(sharedKey), await dh(dhs.privateKey, bobRatchetKey));
  return { dhs, dhr: new Uint8Array(bobRatchetKey), rk: rootKey, cks: chainKey, ckr: null, ns: 0, nr: 0, pn: 0, skipped: [], pastReceivingKeys: [] };
}

/** §3.3 RatchetInitBob: his signed prekey pair is his first ratchet key pair. */
export function initBob(sharedKey: Uint8Array, bobRatchetKeyPair: DhKeyPair): RatchetState {
  return { dhs: bobRatchetKeyPair, dhr: null, rk: new Uint8Array(sharedKey), cks: null, ckr: null, ns: 0, nr: 0, pn: 0, skipped: [], pastReceivingKeys: [] };
}

function copy(state: RatchetState): RatchetState {
  return { ...state, skipped: [...state.skipped], pastReceivingKeys: [...state.pastReceivingKeys] };
}

/** §3.4 RatchetEncrypt. */
export async function ratchetEncrypt(state: RatchetState, plaintext: Uint8Array, ad: Uint8Array, deps: RatchetDeps): Promise<{ state: RatchetState; sealed: Sealed }> {
  if (!state.cks) throw new ProtocolError('no_session', 'this session cannot send yet');
  const next = copy(state);
  const { chainKey, messageKey } = await kdfCk(state.cks);
  next.cks = chainKey;
  const header: Header = { dh: state.dhs.publicRaw, pn: state.pn, n: state.ns };
  next.ns = state.ns + 1;
  const iv = deps.random(GCM_IV_BYTES);
  const ciphertext = await aesGcmEncrypt(messageKey, iv, plaintext, concatBytes(ad, encodeHeader(header)));
  messageKey.fill(0);
  return { state: next, sealed: { header, iv, ciphertext } };
}

async function open(messageKey: Uint8Array, sealed: Sealed, ad: Uint8Array): Promise<Bytes> {
  try {
    return await aesGcmDecrypt(messageKey, sealed.iv, sealed.ciphertext, concatBytes(ad, encodeHeader(sealed.header)));
  } catch {
    throw new ProtocolError('decrypt_failed', 'the message could not be decrypted: it was changed, or is not for this session');
  }
}

/** §3.5 SkipMessageKeys, with the per-chain bound. */
async function skipMessageKeys(s: RatchetState, until: number, now: number): Promise<void> {
  if (s.nr + MAX_SKIP < until) throw new ProtocolError('too_many_skipped', `more than ${MAX_SKIP} messages are missing in this chain`);
  if (!s.ckr || !s.dhr) return;
  while (s.nr < until) {
    const { chainKey, messageKey } = await kdfCk(s.ckr);
    s.ckr = chainKey;
    s.skipped.push({ dh: s.dhr, n: s.nr, messageKey, storedAt: now });
    s.nr++;
  }
}

/** §3.5 DHRatchet. */
async function dhRatchet(s: RatchetState, header: Header, generateDhKey: GenerateDh): Promise<void> {
  if (s.dhr) s.pastReceivingKeys = [s.dhr, ...s.pastReceivingKeys].slice(0, PAST_CHAINS_REMEMBERED);
  s.pn = s.ns;
  s.ns = 0;
  s.nr = 0;
  s.dhr = header.dh;
  const received = await kdfRk(s.rk, await dh(s.dhs.privateKey, s.dhr));
  s.rk = received.rootKey;
  s.ckr = received.chainKey;
  s.dhs = await generateDhKey();
  const sending = await kdfRk(s.rk, await dh(s.dhs.privateKey, s.dhr));
  s.rk = sending.rootKey;
  s.cks = sending.chainKey;
}

function prune(s: RatchetState, now: number): void {
  s.skipped = s.skipped.filter((k) => now - k.storedAt < SKIPPED_KEY_TTL_MS);
  if (s.skipped.length > MAX_SKIPPED_TOTAL) s.skipped = s.skipped.slice(s.skipped.length - MAX_SKIPPED_TOTAL);
}

/**
 * §3.5 RatchetDecrypt. Throws ProtocolError: 'duplicate' for a message whose key was already
 * used (a replay, or at-least-once delivery repeating itself), 'decrypt_failed' for anything
 * altered or foreign, 'too_many_skipped' past the bound. On any error the input state stands.
 */
export async function ratchetDecrypt(state: RatchetState, sealed: Sealed, ad: Uint8Array, deps: RatchetDeps): Promise<{ state: RatchetState; plaintext: Bytes }> {
  const s = copy(state);
  prune(s, deps.now);
  const { header } = sealed;

  const skippedIndex = s.skipped.findIndex((k) => k.n === header.n && bytesEqual(k.dh, header.dh));
  if (skippedIndex >= 0) {
    const plaintext = await open(s.skipped[skippedIndex]!.messageKey, sealed, ad);
    s.skipped.splice(skippedIndex, 1);
    return { state: s, plaintext };
  }

  const currentChain = s.dhr !== null && bytesEqual(header.dh, s.dhr);
  if (currentChain && header.n < s.nr) throw new ProtocolError('duplicate', 'this message was already received');
  if (!currentChain && s.pastReceivingKeys.some((k) => bytesEqual(k, header.dh))) {
    throw new ProtocolError('duplicate', 'this message was already received, or arrived too late');
  }
  if (!currentChain) {
    await skipMessageKeys(s, header.pn, deps.now);
    await dhRatchet(s, header, deps.generateDh);
  }
  await skipMessageKeys(s, header.n, deps.now);
  const { chainKey, messageKey } = await kdfCk(s.ckr!);
  s.ckr = chainKey;
  s.nr++;
  const plaintext = await open(messageKey, sealed, ad);
  prune(s, deps.now);
  return { state: s, plaintext };
}
