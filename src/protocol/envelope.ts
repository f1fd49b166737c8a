// The bytes that travel between two browsers (over the DataChannel or through the server's
// queue). Version 1:
//
//   message : 0x01 ‖ 0x01 ‖ header (73) ‖ iv (12) ‖ ciphertext (≥ 16)
//   prekey  : 0x01 ‖ 0x02 ‖ IK_A (65) ‖ DK_A (65) ‖ sig(DK_A) (64) ‖ EK_A (65) ‖ SPK id (u32)
//             ‖ OPK id (u32, 0 = none) ‖ PQK id (u32) ‖ KEM ciphertext (1088) ‖ message body
//
// A prekey envelope is sent until the first reply arrives, so whichever message Bob sees first
// can start his side of the session (X3DH §3.3). Decoding is total: malformed input gives
// undefined, never an exception.
import { concatBytes, u32be, type Bytes } from '../crypto/bytes.ts';
import { KEM_CIPHERTEXT_BYTES } from '../crypto/kem.ts';
import { decodeHeader, encodeHeader, HEADER_BYTES } from './header.ts';
import type { Sealed } from './double-ratchet.ts';
import type { InitialInfo } from './session-start.ts';

export const ENVELOPE_VERSION = 1;
const KIND_MESSAGE = 1;
const KIND_PREKEY = 2;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Largest ciphertext accepted: a padded payload of up to 256 KiB (file chunks included). */
export const MAX_CIPHERTEXT_BYTES = 256 * 1024 + TAG_BYTES;
const PREKEY_PREFIX_BYTES = 65 + 65 + 64 + 65 + 4 + 4 + 4 + KEM_CIPHERTEXT_BYTES;

export type Envelope = { kind: 'message'; sealed: Sealed } | { kind: 'prekey'; initial: InitialInfo; sealed: Sealed };

function encodeSealed(s: Sealed): Bytes {
  return concatBytes(encodeHeader(s.header), s.iv, s.ciphertext);
}

function decodeSealed(bytes: Uint8Array): Sealed | undefined {
  if (bytes.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || bytes.length > HEADER_BYTES + IV_BYTES + MAX_CIPHERTEXT_BYTES) return undefined;
  const header = decodeHeader(bytes.subarray(0, HEADER_BYTES));
  if (!header) return undefined;
  return { header, iv: bytes.slice(HEADER_BYTES, HEADER_BYTES + IV_BYTES), ciphertext: bytes.slice(HEADER_BYTES + IV_BYTES) };
}

export function encodeEnvelope(e: Envelope): Bytes {
  if (e.kind === 'message') return concatBytes(Uint8Array.of(ENVELOPE_VERSION, KIND_MESSAGE), encodeSealed(e.sealed));
  const i = e.initial;
  return concatBytes(
    Uint8Array.of(ENVELOPE_VERSION, KIND_PREKEY),
    i.identity.signingKey,
    i.identity.dhKey,
    i.identity.dhKeySignature,
    i.ephemeralKey,
    u32be(i.signedPreKeyId),
    u32be(i.oneTimePreKeyId ?? 0),
    u32be(i.pqPreKeyId),
    i.kemCiphertext,
    encodeSealed(e.sealed),
  );
}

export function decodeEnvelope(bytes: Uint8Array): Envelope | undefined {
  if (bytes.length < 2 || bytes[0] !== ENVELOPE_VERSION) return undefined;
  if (bytes[1] === KIND_MESSAGE) {
    const sealed = decodeSealed(bytes.subarray(2));
    return sealed && { kind: 'message', sealed };
  }
  if (bytes[1] !== KIND_PREKEY || bytes.length < 2 + PREKEY_PREFIX_BYTES) return undefined;
  let o = 2;
  const take = (n: number) => bytes.slice(o, (o += n));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = () => {
    const v = view.getUint32(o, false);
    o += 4;
    return v;
  };
  const signingKey = take(65);
  const dhKey = take(65);
  const dhKeySignature = take(64);
  const ephemeralKey = take(65);
  const signedPreKeyId = u32();
  const oneTimePreKeyId = u32();
  const pqPreKeyId = u32();
  const kemCiphertext = take(KEM_CIPHERTEXT_BYTES);
  const sealed = decodeSealed(bytes.subarray(o));
  if (!sealed || signingKey[0] !== 4 || dhKey[0] !== 4 || ephemeralKey[0] !== 4) return undefined;
  return {
    kind: 'prekey',
    initial: {
      identity: { signingKey, dhKey, dhKeySignature },
      ephemeralKey,
      signedPreKeyId,
      oneTimePreKeyId: oneTimePreKeyId === 0 ? null : oneTimePreKeyId,
      pqPreKeyId,
      kemCiphertext,
    },
    sealed,
  };
}

/** A version byte we do not know is reported differently from garbage. */
export function envelopeVersion(bytes: Uint8Array): number | undefined {
  return bytes.length > 0 ? bytes[0] : undefined;
}
