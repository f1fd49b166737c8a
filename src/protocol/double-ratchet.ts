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
import { bytesEqual, type Bytes } from '../crypto/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt, GCM_IV_BYTES } from '../crypto/aead.ts';
import type { RandomSource } from '../crypto/random.ts';
import { dh, type DhKeyPair, type GenerateDh } from './dh.ts';
import { ProtocolError } from './errors.ts';
import { encodeHeader, HEADER_BYTES, type Header } from './header.ts';
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

/**
 * §3.4 RatchetEncrypt for several messages in a row. The chain steps are synchronous, so every
 * message key is known before the first encryption: the encryptions then run together instead
 * of each waiting for the one before (a Web Crypto call's cost is mostly its round trip).
 */
export async function ratchetEncryptMany(state: RatchetState, plaintexts: readonly Uint8Array[], ad: Uint8Array, deps: RatchetDeps): Promise<{ state: RatchetState; sealed: Sealed[] }> {
  if (!state.cks) throw new ProtocolError('no_session', 'this session cannot send yet');
  const next = copy(state);
  const jobs = plaintexts.map((plaintext) => {
    const { chainKey, messageKey } = kdfCk(next.cks!);
    next.cks = chainKey;
    const header: Header = { dh: state.dhs.publicRaw, pn: state.pn, n: next.ns };
    next.ns++;
    const iv = deps.random(GCM_IV_BYTES);
    return aesGcmEncrypt(messageKey, iv, plaintext, associatedData(ad, header)).then((ciphertext) => {
      messageKey.fill(0);
      return { header, iv, ciphertext };
    });
  });
  return { state: next, sealed: await Promise.all(jobs) };
}

/** AD ‖ encoded header, in one allocation. */
function associatedData(ad: Uint8Array, header: Header): Bytes {
  const out = new Uint8Array(ad.length + HEADER_BYTES);
  out.set(ad);
  out.set(encodeHeader(header), ad.length);
  return out;
}

/**
 * Work started ahead for a run of messages (see prefetchDecrypts): chain steps already taken
 * and decryptions already under way. A decryption is used only when its key and associated data
 * are exactly the ones the ratchet derived for the message, so a wrong guess costs time, never
 * correctness.
 */
export interface Prefetched {
  chainStep(chainKey: ChainKey): { chainKey: ChainKey; messageKey: MessageKey } | undefined;
  plaintext(messageKey: Uint8Array, sealed: Sealed, ad: Uint8Array): Promise<Bytes> | undefined;
}

function chainStep(chainKey: ChainKey, prefetched: Prefetched | undefined): { chainKey: ChainKey; messageKey: MessageKey } {
  return prefetched?.chainStep(chainKey) ?? kdfCk(chainKey);
}

async function open(messageKey: Uint8Array, sealed: Sealed, ad: Uint8Array, prefetched?: Prefetched): Promise<Bytes> {
  const fullAd = associatedData(ad, sealed.header);
  try {
    return await (prefetched?.plaintext(messageKey, sealed, fullAd) ?? aesGcmDecrypt(messageKey, sealed.iv, sealed.ciphertext, fullAd));
  } catch {
    throw new ProtocolError('decrypt_failed', 'the message could not be decrypted: it was changed, or is not for this session');
  }
}

/**
 * For a run of messages about to be opened one after another from `state`: takes the chain
 * steps of its current receiving chain that the run will need, and starts decrypting, all at
 * once, the messages in that chain with the keys it will give them if every message before them
 * opens. Opening each in turn (ratchetDecrypt) then waits on work already done.
 */
export function prefetchDecrypts(state: RatchetState, sealed: readonly Sealed[], ad: Uint8Array): Prefetched {
  // Keyed by the chain key object itself: ratchetDecrypt hands back the very objects found here.
  const steps = new WeakMap<ChainKey, { chainKey: ChainKey; messageKey: MessageKey }>();
  const ahead = new Map<Sealed, { key: Bytes; ad: Bytes; plaintext: Promise<Bytes> }>();
  const { ckr, dhr, nr } = state;
  if (ckr && dhr) {
    const wanted = sealed.filter((m) => bytesEqual(m.header.dh, dhr) && m.header.n >= nr && m.header.n < nr + MAX_SKIP);
    let last = -1;
    for (const m of wanted) last = Math.max(last, m.header.n);
    const keys: Bytes[] = [];
    let ck = ckr;
    for (let n = nr; n <= last; n++) {
      const step = kdfCk(ck);
      steps.set(ck, step);
      ck = step.chainKey;
      keys.push(step.messageKey);
    }
    for (const m of wanted) {
      const key = keys[m.header.n - nr]!;
      const fullAd = associatedData(ad, m.header);
      const plaintext = aesGcmDecrypt(key, m.iv, m.ciphertext, fullAd);
      plaintext.catch(() => undefined); // a tampered one is reported when its turn comes
      ahead.set(m, { key, ad: fullAd, plaintext });
    }
  }
  return {
    chainStep: (chainKey) => steps.get(chainKey),
    plaintext: (messageKey, m, fullAd) => {
      const hit = ahead.get(m);
      if (!hit || !bytesEqual(hit.key, messageKey) || !bytesEqual(hit.ad, fullAd)) return undefined;
      ahead.delete(m);
      return hit.plaintext;
    },
  };
}

/** §3.5 SkipMessageKeys, with the per-chain bound. */
function skipMessageKeys(s: RatchetState, until: number, now: number, prefetched?: Prefetched): void {
  if (s.nr + MAX_SKIP < until) throw new ProtocolError('too_many_skipped', `more than ${MAX_SKIP} messages are missing in this chain`);
  if (!s.ckr || !s.dhr) return;
  while (s.nr < until) {
    const { chainKey, messageKey } = chainStep(s.ckr, prefetched);
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
export async function ratchetDecrypt(state: RatchetState, sealed: Sealed, ad: Uint8Array, deps: RatchetDeps, prefetched?: Prefetched): Promise<{ state: RatchetState; plaintext: Bytes }> {
  const s = copy(state);
  prune(s, deps.now);
  const { header } = sealed;

  const skippedIndex = s.skipped.findIndex((k) => k.n === header.n && bytesEqual(k.dh, header.dh));
  if (skippedIndex >= 0) {
    const plaintext = await open(s.skipped[skippedIndex]!.messageKey, sealed, ad, prefetched);
    s.skipped.splice(skippedIndex, 1);
    return { state: s, plaintext };
  }

  const currentChain = s.dhr !== null && bytesEqual(header.dh, s.dhr);
  if (currentChain && header.n < s.nr) throw new ProtocolError('duplicate', 'this message was already received');
  if (!currentChain && s.pastReceivingKeys.some((k) => bytesEqual(k, header.dh))) {
    throw new ProtocolError('duplicate', 'this message was already received, or arrived too late');
  }
  if (!currentChain) {
    skipMessageKeys(s, header.pn, deps.now, prefetched);
    await dhRatchet(s, header, deps.generateDh);
  }
  skipMessageKeys(s, header.n, deps.now, prefetched);
  const { chainKey, messageKey } = chainStep(s.ckr!, prefetched);
  s.ckr = chainKey;
  s.nr++;
  const plaintext = await open(messageKey, sealed, ad, prefetched);
  prune(s, deps.now);
  return { state: s, plaintext };
}
