// The JSON API between browser and server: request bodies, responses, and their validators.
// The server never receives a private key or message text; these types are the proof by
// construction, since anything not listed here is stripped before a handler sees it.
import { z } from 'zod';
import { p256PublicKey, p256Signature, usernameInput } from './fields.ts';

export const API_BODY_LIMIT = 16 * 1024;

/** The public halves of a user's identity: signing key IK, DH key DK, and IK's signature over DK. */
export const identityKeys = z.object({
  signingKey: p256PublicKey('signingKey'),
  dhKey: p256PublicKey('dhKey'),
  dhKeySignature: p256Signature('dhKeySignature'),
});
export type IdentityKeys = z.infer<typeof identityKeys>;

const passwordInput = z.string().min(1, 'Password is required').max(1024, 'Password is too long');

export const signupRequest = z.object({
  username: usernameInput,
  password: passwordInput,
  identity: identityKeys,
});
export type SignupRequest = z.infer<typeof signupRequest>;

export const loginRequest = z.object({
  username: usernameInput,
  password: passwordInput,
});
export type LoginRequest = z.infer<typeof loginRequest>;

export const publishIdentityRequest = z.object({ identity: identityKeys });
export type PublishIdentityRequest = z.infer<typeof publishIdentityRequest>;

export interface PublicUser {
  id: string;
  username: string;
}

export interface SessionResponse {
  accessToken: string;
  /** Milliseconds since the epoch; the client refreshes a little before. */
  expiresAt: number;
  user: PublicUser;
  /** The identity the server holds for this user, so a browser can tell whether its keys match. */
  identity: IdentityKeys | null;
}

export interface UserKeysResponse {
  username: string;
  identity: IdentityKeys;
}

export const sessionResponse = z.object({
  accessToken: z.string().min(1),
  expiresAt: z.number().int().positive(),
  user: z.object({ id: z.string().min(1), username: z.string().min(1) }),
  identity: identityKeys.nullable(),
});

export const userKeysResponse = z.object({ username: z.string().min(1), identity: identityKeys });
