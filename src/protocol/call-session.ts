// v0 per-call key agreement, behind the small SecureChannel interface that the later protocol
// (X3DH/PQXDH + Double Ratchet) replaces. Each call makes fresh ephemeral keys, so two calls
// never share a key, and mixes in both identity DH keys, so only the holders of DK_A and DK_B
// can compute it (the "3-DH" triple of Signal's X3DH §3.3, without prekeys):
//
//   DH1 = DH(EK_A, EK_B)   DH2 = DH(DK_A, EK_B)   DH3 = DH(EK_A, DK_B)
//   OKM = HKDF-SHA-256(salt = 0^32, ikm = DH1 ‖ DH2 ‖ DH3, info = transcript), 64 bytes
//   key A→B = OKM[0..32), key B→A = OKM[32..64)
//
// A is the caller. The transcript names the call and every public key involved, so a box from
// one call cannot be opened in another. Knows nothing of WebRTC, storage or the UI.
import { concatBytes, u32be, utf8, type Bytes } from '../crypto/bytes.ts';
import { ecdh, generateEcdhKeyPair, importEcdhPublic } from '../crypto/ecdh.ts';
import { hkdfSha256 } from '../crypto/hkdf.ts';
import { aesGcmDecrypt, aesGcmEncrypt, GCM_IV_BYTES, importAesKey } from '../crypto/aead.ts';
import type { RandomSource } from '../crypto/random.ts';
import { ProtocolError } from './errors.ts';
import { assertPublicIdentity, type LocalIdentity, type PublicIdentity } from './identity.ts';

export type CallRole = 'caller' | 'callee';

export interface SealedBox {
  seq: number;
  iv: Bytes;
  ct: Bytes;
}

/** What the transport needs from a session: seal for the peer, open what the peer sealed. */
export interface SecureChannel {
  seal(plaintext: Uint8Array): Promise<SealedBox>;
  /** Throws ProtocolError('decrypt_failed' | 'out_of_order'); a failed box changes no state. */
  open(box: SealedBox): Promise<Bytes>;
}

export interface CallHandshake {
  /** Send this to the peer (our ephemeral public key). */
  readonly ephemeralPublic: Bytes;
  /** Give it the peer's ephemeral public key; returns the channel for this call. */
  complete(peerEphemeral: Uint8Array): Promise<SecureChannel>;
}

const INFO_LABEL = utf8('Parley v0 call');
const AD_LABEL = utf8('Parley v0 box');
const ZERO_SALT = new Uint8Array(32);

function lengthPrefixed(bytes: Uint8Array): Bytes {
  return concatBytes(u32be(bytes.length), bytes);
}

function seqBytes(seq: number): Bytes {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(seq / 2 ** 32), false);
  view.setUint32(4, seq >>> 0, false);
  return out;
}

export async function beginCallHandshake(params: {
  role: CallRole;
  callId: string;
  me: LocalIdentity;
  peer: PublicIdentity;
  random: RandomSource;
}): Promise<CallHandshake> {
  const { role, callId, me, peer, random } = params;
  await assertPublicIdentity(peer);
  const peerDh = await importEcdhPublic(peer.dhKey);
  const eph = await generateEcdhKeyPair(false);

  return {
    ephemeralPublic: eph.publicRaw,
    async complete(peerEphemeralRaw) {
      let peerEph: CryptoKey;
      try {
        peerEph = await importEcdhPublic(peerEphemeralRaw);
      } catch {
        throw new ProtocolError('bad_public_key', "the contact's call key is not a valid P-256 point");
      }
      const dh1 = await ecdh(eph.privateKey, peerEph);
      // DH2 is always DK_caller with EK_callee, DH3 always EK_caller with DK_callee; each side
      // computes them from the halves it holds.
      const [dh2, dh3] =
        role === 'caller'
          ? [await ecdh(me.dh.privateKey, peerEph), await ecdh(eph.privateKey, peerDh)]
          : [await ecdh(eph.privateKey, peerDh), await ecdh(me.dh.privateKey, peerEph)];

      const mine = { signingKey: me.signing.publicRaw, dhKey: me.dh.publicRaw };
      const [aIdentity, bIdentity] = role === 'caller' ? [mine, peer] : [peer, mine];
      const [ephA, ephB] = role === 'caller' ? [eph.publicRaw, peerEphemeralRaw] : [peerEphemeralRaw, eph.publicRaw];
      const info = concatBytes(
        INFO_LABEL,
        lengthPrefixed(utf8(callId)),
        aIdentity.signingKey,
        aIdentity.dhKey,
        bIdentity.signingKey,
        bIdentity.dhKey,
        ephA,
        ephB,
      );
      const okm = await hkdfSha256(concatBytes(dh1, dh2, dh3), ZERO_SALT, info, 64);
      const keyAB = await importAesKey(okm.subarray(0, 32));
      const keyBA = await importAesKey(okm.subarray(32, 64));
      okm.fill(0);
      const [sendKey, recvKey, sendDir, recvDir] =
        role === 'caller' ? [keyAB, keyBA, 0x01, 0x02] : [keyBA, keyAB, 0x02, 0x01];
      return createChannel(sendKey, recvKey, sendDir, recvDir, random);
    },
  };
}

function createChannel(sendKey: CryptoKey, recvKey: CryptoKey, sendDir: number, recvDir: number, random: RandomSource): SecureChannel {
  let sendSeq = 0;
  let recvSeq = 0;
  const ad = (dir: number, seq: number) => concatBytes(AD_LABEL, Uint8Array.of(dir), seqBytes(seq));
  return {
    async seal(plaintext) {
      const seq = sendSeq++;
      const iv = random(GCM_IV_BYTES);
      const ct = await aesGcmEncrypt(sendKey, iv, plaintext, ad(sendDir, seq));
      return { seq, iv, ct };
    },
    async open(box) {
      // The DataChannel is reliable and ordered, so anything but the next number is a replay,
      // a drop, or an injection: refuse it and keep the expected number unchanged.
      if (box.seq !== recvSeq) throw new ProtocolError('out_of_order', 'message arrived out of order or twice');
      try {
        const pt = await aesGcmDecrypt(recvKey, box.iv, box.ct, ad(recvDir, box.seq));
        recvSeq++;
        return pt;
      } catch {
        throw new ProtocolError('decrypt_failed', 'message could not be decrypted');
      }
    },
  };
}
