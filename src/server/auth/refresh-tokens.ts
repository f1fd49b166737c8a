// Refresh tokens: 32 random bytes in an httpOnly cookie, stored only as their SHA-256.
// Each use rotates the token; presenting a spent one means a copy exists somewhere else, so the
// whole family from that login is revoked and both holders must log in again (OAuth 2.0
// Security BCP, RFC 9700 §4.14.2).
import { createHash, randomBytes } from 'node:crypto';
import type { RefreshTokenStore } from '../store/types.ts';

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

export interface IssuedRefresh {
  token: string;
  expiresAt: number;
}

export class RefreshTokens {
  constructor(
    private readonly store: RefreshTokenStore,
    private readonly ttlMs: number,
  ) {}

  async issue(userId: string, familyId = randomBytes(16).toString('base64url'), now = Date.now()): Promise<IssuedRefresh> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.ttlMs;
    await this.store.insert({ tokenHash: hashRefreshToken(token), userId, familyId, expiresAt, createdAt: now });
    return { token, expiresAt };
  }

  /** Spends `token` and returns the user it belonged to with a fresh token, or undefined. */
  async rotate(token: string, now = Date.now()): Promise<{ userId: string; next: IssuedRefresh } | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const result = await this.store.consume(hashRefreshToken(token), now);
    if (result.status === 'reused') {
      await this.store.revokeFamily(result.record.familyId);
      return undefined;
    }
    if (result.status !== 'ok') return undefined;
    const next = await this.issue(result.record.userId, result.record.familyId, now);
    return { userId: result.record.userId, next };
  }

  async revoke(token: string, now = Date.now()): Promise<void> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return;
    const result = await this.store.consume(hashRefreshToken(token), now);
    if (result.status !== 'unknown') await this.store.revokeFamily(result.record.familyId);
  }
}
