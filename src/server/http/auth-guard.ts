// Identity for API handlers comes from the verified Bearer token and nothing else.
import type { FastifyRequest } from 'fastify';
import { DEVICE_HEADER, FIRST_DEVICE_ID, WireError, isDeviceId } from '../../wire/index.ts';
import type { AccessClaims, AccessTokens } from '../auth/access-tokens.ts';

export async function requireUser(request: FastifyRequest, tokens: AccessTokens): Promise<AccessClaims> {
  const header = request.headers.authorization;
  const match = header && /^Bearer ([A-Za-z0-9._~+/=-]{1,4096})$/.exec(header);
  if (!match) throw new WireError('unauthorized', 'Not signed in.');
  const result = await tokens.verify(match[1]!);
  if (!result.ok) {
    throw result.reason === 'expired'
      ? new WireError('token_expired', 'Your session expired. Please log in again.')
      : new WireError('unauthorized', 'Not signed in.');
  }
  return result.claims;
}

/** Cookie-bearing endpoints refuse cross-site callers even where SameSite is not enforced. */
export function assertSameOrigin(request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new WireError('forbidden', 'Cross-site request refused.');
  }
  if (host !== request.headers.host) throw new WireError('forbidden', 'Cross-site request refused.');
}

/** Which of the account's browsers sent the request (the `parley-device` header; absent: "1"). */
export function requestDevice(request: FastifyRequest): string {
  const raw = request.headers[DEVICE_HEADER];
  if (raw === undefined) return FIRST_DEVICE_ID;
  if (typeof raw !== 'string' || !isDeviceId(raw)) throw new WireError('bad_request', `The ${DEVICE_HEADER} header must be a device id.`);
  return raw;
}
