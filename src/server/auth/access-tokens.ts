// Short-lived access tokens: JWTs signed with ES256 (DESIGN.md "Accounts and tokens").
// Verification allows exactly one algorithm and requires iss, aud, sub, iat and exp, so "alg:
// none", HMAC-with-the-public-key confusion, and tokens without an expiry are all refused. The
// keys come from the server's configuration, never from the token (jku, x5u and jwk are ignored):
// a token's `kid` only picks one of the server's own verifying keys (issue #20, rotation: the
// first key signs, all verify), and a kid the server does not hold is refused.
import { randomBytes, type webcrypto } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { SignJWT, calculateJwkThumbprint, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK, jwtVerify, errors as joseErrors, type JWK } from 'jose';

export const TOKEN_ALG = 'ES256';
export const TOKEN_ISSUER = 'urn:parley:server';
export const TOKEN_AUDIENCE = 'urn:parley:client';

export interface AccessClaims {
  userId: string;
  username: string;
  expiresAt: number;
  /** Unix seconds. */
  issuedAt: number;
}

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: 'expired' | 'invalid' };

export interface AccessTokens {
  issue(userId: string, username: string, now?: number): Promise<{ token: string; expiresAt: number }>;
  verify(token: string): Promise<VerifyResult>;
}

type Key = webcrypto.CryptoKey;
/** The key that signs (with its kid), and every key that verifies, by kid (the signing one included). */
export type SigningKeys = { privateKey: Key; publicKey: Key; kid: string; verifiers: Map<string, Key> };

/** Loads the signing key pair from DATA_DIR, making one on first start (P-256, from the CSPRNG). */
export async function loadOrCreateSigningKeys(dataDir: string): Promise<SigningKeys> {
  const file = path.join(dataDir, 'token-signing-key.jwk.json');
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const pair = await generateKeyPair(TOKEN_ALG, { extractable: true });
    jwk = { ...(await exportJWK(pair.privateKey)), alg: TOKEN_ALG, kid: randomBytes(8).toString('hex') };
    await writeFile(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
  }
  return signingKeysFromJwk(jwk);
}

export async function signingKeysFromJwk(jwk: JWK): Promise<SigningKeys> {
  return signingKeysFromJwks([jwk]);
}

/** The first key signs; all verify. A key without `kid` is named by its RFC 7638 thumbprint. */
export async function signingKeysFromJwks(jwks: JWK[]): Promise<SigningKeys> {
  const verifiers = new Map<string, Key>();
  let signing: { privateKey: Key; publicKey: Key; kid: string } | undefined;
  for (const jwk of jwks) {
    if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || !jwk.d) throw new Error('token signing key must be a private P-256 JWK');
    const { d: _d, ...pub } = jwk;
    const kid = jwk.kid ?? (await calculateJwkThumbprint({ kty: pub.kty, crv: pub.crv, x: pub.x, y: pub.y }));
    const publicKey = (await importJWK({ ...pub, alg: TOKEN_ALG }, TOKEN_ALG)) as Key;
    verifiers.set(kid, publicKey);
    signing ??= { privateKey: (await importJWK({ ...jwk, alg: TOKEN_ALG }, TOKEN_ALG)) as Key, publicKey, kid };
  }
  if (!signing) throw new Error('no token signing key');
  return { ...signing, verifiers };
}

export function createAccessTokens(keys: SigningKeys, ttlSeconds: number): AccessTokens {
  return {
    async issue(userId, username, now = Date.now()) {
      const iat = Math.floor(now / 1000);
      const exp = iat + ttlSeconds;
      const token = await new SignJWT({ name: username })
        .setProtectedHeader({ alg: TOKEN_ALG, typ: 'JWT', kid: keys.kid })
        .setIssuer(TOKEN_ISSUER)
        .setAudience(TOKEN_AUDIENCE)
        .setSubject(userId)
        .setIssuedAt(iat)
        .setExpirationTime(exp)
        .sign(keys.privateKey);
      return { token, expiresAt: exp * 1000 };
    },
    async verify(token) {
      try {
        // A token from before kids (an upgrade from v1) can only be the signing key's.
        const { kid } = decodeProtectedHeader(token);
        const key = kid === undefined ? keys.publicKey : typeof kid === 'string' ? keys.verifiers.get(kid) : undefined;
        if (!key) return { ok: false, reason: 'invalid' };
        const { payload } = await jwtVerify(token, key, {
          algorithms: [TOKEN_ALG],
          issuer: TOKEN_ISSUER,
          audience: TOKEN_AUDIENCE,
          requiredClaims: ['sub', 'iat', 'exp'],
          maxTokenAge: `${ttlSeconds + 60}s`,
          // Several processes, and a password change dating its new token a second ahead.
          clockTolerance: 5,
          typ: 'JWT',
        });
        if (typeof payload.sub !== 'string' || typeof payload.name !== 'string' || typeof payload.exp !== 'number' || typeof payload.iat !== 'number') {
          return { ok: false, reason: 'invalid' };
        }
        return { ok: true, claims: { userId: payload.sub, username: payload.name, expiresAt: payload.exp * 1000, issuedAt: payload.iat } };
      } catch (e) {
        return { ok: false, reason: e instanceof joseErrors.JWTExpired ? 'expired' : 'invalid' };
      }
    },
  };
}

/**
 * Tokens checked against the account as well as the signature: the user must still exist, and
 * the token must not predate the account's last password change. Every consumer of tokens
 * (API and WebSocket) gets this one, so a password change ends every session at once.
 */
export function liveAccessTokens(tokens: AccessTokens, users: { findById(id: string): Promise<{ tokensValidAfter: number } | undefined> }): AccessTokens {
  return {
    issue: (userId, username, now) => tokens.issue(userId, username, now),
    async verify(token) {
      const result = await tokens.verify(token);
      if (!result.ok) return result;
      const user = await users.findById(result.claims.userId);
      if (!user || result.claims.issuedAt < user.tokensValidAfter) return { ok: false, reason: 'invalid' };
      return result;
    },
  };
}
