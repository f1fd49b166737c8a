// Error codes shared by the API, the signaling socket and the client. A code is a stable
// contract: clients and tests match on it, so codes are only ever added, never renamed.
// This file knows nothing of HTTP frameworks or sockets; `httpStatus` is the one mapping.

export const ERROR_CODES = {
  bad_request: 400,
  invalid_username: 400,
  invalid_password: 400,
  unauthorized: 401,
  invalid_credentials: 401,
  token_expired: 401,
  forbidden: 403,
  not_found: 404,
  username_taken: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  peer_unavailable: 404,
  queue_full: 507,
  /** The browser was unlinked from its account: it must wipe its keys. */
  device_unlinked: 403,
  /** A device list that is not the next version of the account's list. */
  conflict: 409,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export function httpStatus(code: ErrorCode): number {
  return ERROR_CODES[code];
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

/** An error that is safe to show to the other side: its message was written for people. */
export class WireError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'WireError';
    this.code = code;
  }
  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}
