// Protocol failures with stable codes. None of them carries key material or plaintext in its
// message, so any of them may be logged or shown.

export type ProtocolErrorCode =
  | 'bad_identity_signature'
  | 'bad_public_key'
  | 'decrypt_failed'
  | 'out_of_order'
  | 'handshake_incomplete';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}
