// Protocol failures with stable codes. None of them carries key material or plaintext in its
// message, so any of them may be logged or shown.

export type ProtocolErrorCode =
  | 'bad_identity_signature'
  | 'bad_prekey_signature'
  | 'bad_public_key'
  | 'malformed_message'
  | 'unsupported_version'
  | 'decrypt_failed'
  | 'duplicate'
  | 'too_many_skipped'
  | 'no_session'
  | 'unknown_prekey'
  | 'identity_changed'
  | 'link_mismatch'
  | 'unknown_device';

export class ProtocolError extends Error {
  readonly code: ProtocolErrorCode;
  constructor(code: ProtocolErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}

export function isProtocolError(e: unknown, code?: ProtocolErrorCode): e is ProtocolError {
  return e instanceof ProtocolError && (code === undefined || e.code === code);
}
