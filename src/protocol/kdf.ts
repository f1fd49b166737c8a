// The Double Ratchet's key derivation functions, as recommended by the Signal specification
// ("The Double Ratchet Algorithm", rev. 4, §5.2):
//   KDF_RK(rk, dh_out) = HKDF-SHA-256(salt = rk, ikm = dh_out, info), 64 bytes → (rk', ck)
//   KDF_CK(ck): message key = HMAC-SHA-256(ck, 0x01), next chain key = HMAC-SHA-256(ck, 0x02)
// The constants 0x01 and 0x02 are the spec's, and libsignal's (ratchet/keys.rs), so its
// chain-key test vector applies unchanged. Knows nothing of headers or state.
import { utf8, type Bytes } from '../crypto/bytes.ts';
import { hkdfSha256 } from '../crypto/hkdf.ts';
import { hmacSha256EachSync } from '../crypto/hmac.ts';

export type RootKey = Bytes & { readonly __brand?: 'RootKey' };
export type ChainKey = Bytes & { readonly __brand?: 'ChainKey' };
export type MessageKey = Bytes & { readonly __brand?: 'MessageKey' };

const RATCHET_INFO = utf8('Parley v1 ratchet');
const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

export async function kdfRk(rootKey: RootKey, dhOut: Uint8Array): Promise<{ rootKey: RootKey; chainKey: ChainKey }> {
  const okm = await hkdfSha256(dhOut, rootKey, RATCHET_INFO, 64);
  return { rootKey: okm.slice(0, 32), chainKey: okm.slice(32, 64) };
}

/** Synchronous: it runs once or more per message, and awaiting Web Crypto twice cost more than the MACs. */
export function kdfCk(chainKey: ChainKey): { chainKey: ChainKey; messageKey: MessageKey } {
  const [messageKey, next] = hmacSha256EachSync(chainKey, [MESSAGE_KEY_SEED, CHAIN_KEY_SEED]);
  return { chainKey: next!, messageKey: messageKey! };
}
