// The JSON API between browser and server: request bodies, responses, and their validators.
// The server never receives a private key or message text; these types are the proof by
// construction, since anything not listed here is stripped before a handler sees it.
import { z } from 'zod';
import { bytesB64, p256PublicKey, p256Signature, usernameInput } from './fields.ts';

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

// ---- Key directory (protocol v1 prekeys) ----

export const KEYS_BODY_LIMIT = 64 * 1024;
export const MAX_ONE_TIME_PREKEYS_PER_REQUEST = 100;
/** The directory keeps at most this many unused one-time prekeys per user. */
export const MAX_ONE_TIME_PREKEYS_STORED = 500;

export const prekeyId = z.number().int().min(1, 'prekey id must be at least 1').max(0xfffffffe, 'prekey id is too large');

export const signedPreKeyWire = z.object({ id: prekeyId, publicKey: p256PublicKey('signedPreKey.publicKey'), signature: p256Signature('signedPreKey.signature') });
export const pqPreKeyWire = z.object({ id: prekeyId, publicKey: bytesB64(1184, 'pqPreKey.publicKey'), signature: p256Signature('pqPreKey.signature') });
export const oneTimePreKeyWire = z.object({ id: prekeyId, publicKey: p256PublicKey('oneTimePreKey.publicKey') });

const oneTimeList = (min: number) =>
  z
    .array(oneTimePreKeyWire)
    .min(min)
    .max(MAX_ONE_TIME_PREKEYS_PER_REQUEST, `at most ${MAX_ONE_TIME_PREKEYS_PER_REQUEST} one-time prekeys per request`)
    .refine((list) => new Set(list.map((k) => k.id)).size === list.length, 'one-time prekey ids must be unique');

/** Publishes identity and current prekeys. A different identity than stored means a new device. */
export const changePasswordRequest = z.object({
  currentPassword: passwordInput,
  newPassword: passwordInput,
});
export type ChangePasswordRequest = z.infer<typeof changePasswordRequest>;

export const publishKeysRequest = z.object({
  identity: identityKeys,
  signedPreKey: signedPreKeyWire,
  pqPreKey: pqPreKeyWire,
  oneTimePreKeys: oneTimeList(0),
});
export type PublishKeysRequest = z.infer<typeof publishKeysRequest>;

export const addOneTimePreKeysRequest = z.object({ oneTimePreKeys: oneTimeList(1) });
export type AddOneTimePreKeysRequest = z.infer<typeof addOneTimePreKeysRequest>;

export const preKeyBundleResponse = z.object({
  username: z.string().min(1),
  identity: identityKeys,
  signedPreKey: signedPreKeyWire,
  pqPreKey: pqPreKeyWire,
  oneTimePreKey: oneTimePreKeyWire.optional(),
});
export type PreKeyBundleResponse = z.infer<typeof preKeyBundleResponse>;

export const keyStatusResponse = z.object({
  identity: identityKeys.nullable(),
  signedPreKeyId: prekeyId.nullable(),
  pqPreKeyId: prekeyId.nullable(),
  oneTimePreKeys: z.number().int().min(0),
});
export type KeyStatusResponse = z.infer<typeof keyStatusResponse>;

// ---- Contacts and presence ----

export const contactState = z.enum(['added', 'blocked']);
export const setContactRequest = z.object({ state: contactState });
export type SetContactRequest = z.infer<typeof setContactRequest>;

export const contactView = z.object({
  username: z.string().min(1),
  state: contactState,
  /** They added you too: only then is presence shared. */
  mutual: z.boolean(),
  /** Online right now (mutual contacts only; null otherwise). */
  online: z.boolean().nullable(),
});
export type ContactView = z.infer<typeof contactView>;
export const contactsResponse = z.object({ contacts: z.array(contactView) });

// ---- Devices: several browsers per account (issue #17) ----

/** Which of the account's browsers a request comes from; absent means device "1" (a v1 browser). */
export const DEVICE_HEADER = 'parley-device';
export const deviceIdField = z.string().regex(/^[A-Za-z0-9_-]{1,16}$/, 'device id must be 1–16 base64url characters');
export const deviceName = z.string().trim().min(1, 'Name the browser').max(64, 'The name is too long (64 characters at most)');

/** A device list version as the server keeps it: the signed bytes (wire/device-list.ts) and the signature. */
export const signedDeviceListWire = z.object({
  body: z.string().min(1).max(4096),
  signature: p256Signature('signature'),
});
export type SignedDeviceListWire = z.infer<typeof signedDeviceListWire>;

/** Every version of an account's device list, oldest first; empty for an account that never linked a browser. */
export const deviceListChainResponse = z.object({ username: z.string().min(1), chain: z.array(signedDeviceListWire).max(10_000) });
export type DeviceListChainResponse = z.infer<typeof deviceListChainResponse>;

/**
 * The next version of the own account's list, signed by one of its browsers. Browsers it adds
 * are named here (names are for the account's own browsers, never in the public list); browsers
 * it drops are unlinked.
 */
export const appendDeviceListRequest = z.object({
  list: signedDeviceListWire,
  /** The first version of a v1 account is published with the second, in one request. */
  first: signedDeviceListWire.optional(),
  names: z.record(deviceIdField, deviceName).optional(),
});
export type AppendDeviceListRequest = z.infer<typeof appendDeviceListRequest>;

export const deviceView = z.object({
  id: deviceIdField,
  name: z.string().max(64),
  createdAt: z.number().int(),
  lastSeenAt: z.number().int(),
});
export type DeviceView = z.infer<typeof deviceView>;
export const devicesResponse = z.object({ devices: z.array(deviceView) });
export type DevicesResponse = z.infer<typeof devicesResponse>;

export const renameDeviceRequest = z.object({ name: deviceName });

/**
 * "Reset identity": new keys for the account. The browser that asks becomes browser 1 of the
 * account with `identity`; every other browser is unlinked and contacts see a new safety number.
 */
export const resetIdentityRequest = z.object({ identity: identityKeys, name: deviceName });

/** A link request's public part: ephemeral key, device keys, tag (protocol/link-code.ts). At most 1 KiB. */
export const LINK_REQUEST_MAX_BYTES = 1024;
/** The sealed answer: the list, contacts and up to 30 days of history. */
export const LINK_ANSWER_MAX_BYTES = 8 * 1024 * 1024;
export const LINK_TTL_MS = 10 * 60_000;

/** The new browser chooses the link id (16 random bytes): its request's tag covers it. */
export const linkIdField = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'link id must be 22 base64url characters');
export const createLinkRequest = z.object({ linkId: linkIdField, request: z.string().min(1).max(Math.ceil((LINK_REQUEST_MAX_BYTES * 4) / 3)) });
export const linkCreatedResponse = z.object({ linkId: z.string(), expiresAt: z.number().int() });
export const linkRequestResponse = z.object({ request: z.string(), expiresAt: z.number().int() });
export const linkAnswerRequest = z.object({ answer: z.string().min(1).max(Math.ceil((LINK_ANSWER_MAX_BYTES * 4) / 3)) });
/** `answer` is null until the linked browser has answered. */
export const linkAnswerResponse = z.object({ answer: z.string().nullable() });
