// What an identity signing key IK signs, byte for byte. Part of the wire format: both the
// browser (which signs and verifies) and the server (which refuses unsigned garbage at
// publication) build exactly these byte strings. Each label ends in NUL so no label is a prefix
// of another, and a signature made for one purpose can never verify for another.
//   DK:  label ‖ DK public key (65)
//   SPK: label ‖ id (u32 BE) ‖ SPK public key (65)
//   PQK: label ‖ id (u32 BE) ‖ ML-KEM-768 public key (1184)

const encoder = new TextEncoder();
export const DK_SIGNATURE_LABEL = encoder.encode('Parley v1 identity DH key\u0000');
export const SPK_SIGNATURE_LABEL = encoder.encode('Parley v1 signed prekey\u0000');
export const PQK_SIGNATURE_LABEL = encoder.encode('Parley v1 ML-KEM-768 prekey\u0000');

export function dhKeySignedData(dhKey: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(DK_SIGNATURE_LABEL.length + dhKey.length);
  out.set(DK_SIGNATURE_LABEL);
  out.set(dhKey, DK_SIGNATURE_LABEL.length);
  return out;
}

export function preKeySignedData(label: Uint8Array, id: number, key: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(label.length + 4 + key.length);
  out.set(label);
  new DataView(out.buffer).setUint32(label.length, id >>> 0, false);
  out.set(key, label.length + 4);
  return out;
}
