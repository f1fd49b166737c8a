// Sign-up, log-in, token refresh and identity publication, independent of HTTP. Errors are
// WireErrors whose messages are written for the person at the keyboard; an unknown user and a
// wrong password produce the same error after the same bcrypt work.
import { randomBytes } from 'node:crypto';
import {
  WireError,
  checkNewPassword,
  decodeBase64url,
  encodeBase64url,
  normalizeUsername,
  type IdentityKeys,
  type SessionResponse,
} from '../../wire/index.ts';
import type { IdentityRecord, Store } from '../store/types.ts';
import type { PasswordHasher } from './password-hasher.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { RefreshTokens, IssuedRefresh } from './refresh-tokens.ts';
import { Busy } from './semaphore.ts';
import { assertIdentity } from '../keys/verify.ts';

export interface LoginOutcome {
  session: SessionResponse;
  refresh: IssuedRefresh;
}

const INVALID_CREDENTIALS = () => new WireError('invalid_credentials', 'That username and password do not match an account.');

export function identityFromWire(keys: IdentityKeys, now: number): IdentityRecord {
  return {
    signingKey: decodeBase64url(keys.signingKey)!,
    dhKey: decodeBase64url(keys.dhKey)!,
    dhKeySignature: decodeBase64url(keys.dhKeySignature)!,
    updatedAt: now,
  };
}

export function identityToWire(r: IdentityRecord): IdentityKeys {
  return {
    signingKey: encodeBase64url(r.signingKey),
    dhKey: encodeBase64url(r.dhKey),
    dhKeySignature: encodeBase64url(r.dhKeySignature),
  };
}

export class AccountService {
  constructor(
    private readonly store: Store,
    private readonly hasher: PasswordHasher,
    private readonly tokens: AccessTokens,
    private readonly refreshTokens: RefreshTokens,
  ) {}

  async signup(input: { username: string; password: string; identity: IdentityKeys }, now = Date.now()): Promise<LoginOutcome> {
    const name = normalizeUsername(input.username);
    if (!name.ok) throw new WireError('invalid_username', name.message);
    const pw = checkNewPassword(input.password);
    if (!pw.ok) throw new WireError('invalid_password', pw.message);
    const identity = identityFromWire(input.identity, now);
    await assertIdentity(identity);
    const passwordHash = await this.hashOrBusy(input.password);
    const user = { id: randomBytes(16).toString('base64url'), username: name.username, passwordHash, createdAt: now };
    if ((await this.store.users.create(user, identity)) === 'taken') {
      throw new WireError('username_taken', 'That username is taken. Try another one.');
    }
    return this.startSession(user.id, user.username, identity, now);
  }

  async login(input: { username: string; password: string }, now = Date.now()): Promise<LoginOutcome> {
    const name = normalizeUsername(input.username);
    // A malformed name cannot exist, but it still costs a bcrypt run: timing must not tell.
    const user = name.ok ? await this.store.users.findByUsername(name.username) : undefined;
    let outcome;
    try {
      outcome = await this.hasher.verify(input.password, user?.passwordHash);
    } catch (e) {
      if (e instanceof Busy) throw new WireError('rate_limited', 'The server is busy. Please try again in a moment.');
      throw e;
    }
    if (!outcome.ok || !user) throw INVALID_CREDENTIALS();
    // A hash of the other algorithm, or of an older strength, is replaced while we know the password.
    if (outcome.needsRehash) await this.store.users.setPasswordHash(user.id, await this.hashOrBusy(input.password)).catch(() => undefined);
    const identity = await this.store.identities.get(user.id);
    return this.startSession(user.id, user.username, identity, now);
  }

  async refresh(refreshToken: string, now = Date.now()): Promise<LoginOutcome> {
    const rotated = await this.refreshTokens.rotate(refreshToken, now);
    const user = rotated && (await this.store.users.findById(rotated.userId));
    if (!rotated || !user) throw new WireError('unauthorized', 'Your session has ended. Please log in again.');
    const identity = await this.store.identities.get(user.id);
    const access = await this.tokens.issue(user.id, user.username, now);
    return {
      session: { accessToken: access.token, expiresAt: access.expiresAt, user: { id: user.id, username: user.username }, identity: identity ? identityToWire(identity) : null },
      refresh: rotated.next,
    };
  }

  /**
   * Changes the password of a signed-in user after checking the current one. Every other
   * session ends: refresh tokens are revoked and access tokens issued before now are refused.
   * Returns a fresh session for the caller.
   */
  async changePassword(userId: string, currentPassword: string, newPassword: string, now = Date.now()): Promise<LoginOutcome> {
    const user = await this.store.users.findById(userId);
    let outcome;
    try {
      outcome = await this.hasher.verify(currentPassword, user?.passwordHash);
    } catch (e) {
      if (e instanceof Busy) throw new WireError('rate_limited', 'The server is busy. Please try again in a moment.');
      throw e;
    }
    if (!user || !outcome.ok) throw new WireError('invalid_credentials', 'Your current password is not right.');
    const pw = checkNewPassword(newPassword);
    if (!pw.ok) throw new WireError('invalid_password', pw.message);
    const hash = await this.hashOrBusy(newPassword);
    // Token times are whole seconds: the cut-off is the next second, so a token minted earlier in
    // this same second (say, by a thief racing the change) is refused too.
    const cutoff = Math.floor(now / 1000) + 1;
    await this.store.users.changePassword(user.id, hash, cutoff);
    await this.store.refreshTokens.revokeUser(user.id);
    const identity = await this.store.identities.get(user.id);
    // The caller's own new session is dated at the cut-off, so it is the first one accepted.
    return this.startSession(user.id, user.username, identity, cutoff * 1000);
  }

  async logout(refreshToken: string | undefined): Promise<void> {
    if (refreshToken) await this.refreshTokens.revoke(refreshToken);
  }

  async identityOf(username: string): Promise<{ username: string; identity: IdentityKeys } | undefined> {
    const name = normalizeUsername(username);
    if (!name.ok) return undefined;
    const user = await this.store.users.findByUsername(name.username);
    const identity = user && (await this.store.identities.get(user.id));
    return user && identity ? { username: user.username, identity: identityToWire(identity) } : undefined;
  }

  private async hashOrBusy(password: string): Promise<string> {
    try {
      return await this.hasher.hash(password);
    } catch (e) {
      if (e instanceof Busy) throw new WireError('rate_limited', 'The server is busy. Please try again in a moment.');
      throw e;
    }
  }

  private async startSession(userId: string, username: string, identity: IdentityRecord | undefined, now: number): Promise<LoginOutcome> {
    const access = await this.tokens.issue(userId, username, now);
    const refresh = await this.refreshTokens.issue(userId, undefined, now);
    return {
      session: { accessToken: access.token, expiresAt: access.expiresAt, user: { id: userId, username }, identity: identity ? identityToWire(identity) : null },
      refresh,
    };
  }
}
