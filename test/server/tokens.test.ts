// Access tokens: one algorithm, required claims, and sockets that end with their token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, generateKeyPair } from 'jose';
import { CLOSE } from '../../src/wire/index.ts';
import { createAccessTokens, loadOrCreateSigningKeys, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../src/server/auth/access-tokens.ts';
import { http, signup, startTestServer, TestSocket, type TestServer } from '../support/server.ts';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

async function serverKeys() {
  return loadOrCreateSigningKeys(t.dataDir);
}

describe('access tokens', () => {
  it('are ES256 JWTs with iss, aud, sub, iat and a 15-minute exp', async () => {
    const { token, userId } = await signup(t);
    const [header, payload] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    expect(header.alg).toBe('ES256');
    expect(payload).toMatchObject({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, sub: userId });
    expect(payload.exp - payload.iat).toBe(900);
  });

  it('refuse a token without exp, with another issuer or audience, or signed by another key', async () => {
    const { privateKey } = await serverKeys();
    const { userId } = await signup(t);
    const now = Math.floor(Date.now() / 1000);
    const build = (claims: { iss?: string; aud?: string; exp?: number }, key: CryptoKey = privateKey) => {
      let jwt = new SignJWT({ name: 'x' }).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).setSubject(userId).setIssuedAt(now);
      if (claims.iss) jwt = jwt.setIssuer(claims.iss);
      if (claims.aud) jwt = jwt.setAudience(claims.aud);
      if (claims.exp) jwt = jwt.setExpirationTime(claims.exp);
      return jwt.sign(key);
    };
    const other = (await generateKeyPair('ES256')).privateKey;
    const bad = [
      await build({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE }),
      await build({ iss: 'someone-else', aud: TOKEN_AUDIENCE, exp: now + 60 }),
      await build({ iss: TOKEN_ISSUER, aud: 'other-app', exp: now + 60 }),
      await build({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: now + 60 }, other),
      await build({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: now - 10 }),
    ];
    for (const token of bad) {
      const res = await http(t, 'GET', '/api/users/anyone/keys', { token });
      expect(res.status).toBe(401);
    }
    const good = await build({ iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, exp: now + 60 });
    expect((await http(t, 'GET', '/api/users/anyone/keys', { token: good })).status).toBe(404);
  });

  it('refuse HS256 signed with the public key (algorithm confusion)', async () => {
    const { publicKey } = await serverKeys();
    const jwk = await crypto.subtle.exportKey('jwk', publicKey);
    const secret = new TextEncoder().encode(JSON.stringify(jwk));
    const { userId } = await signup(t);
    const token = await new SignJWT({ name: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    expect((await http(t, 'GET', '/api/users/anyone/keys', { token })).status).toBe(401);
  });

  it('close the signaling socket when the token expires', async () => {
    const { userId, username } = await signup(t);
    const shortLived = createAccessTokens(await serverKeys(), 1);
    const { token } = await shortLived.issue(userId, username);
    const s = new TestSocket(t);
    await s.opened();
    s.send({ type: 'auth', token });
    // With the frame limits of this socket, so the browser paces itself (transport/frame-pacer.ts).
    expect(await s.next()).toMatchObject({ type: 'ready', limits: { framesPerSecond: 20, frameBurst: 60 } });
    expect(await s.closed).toMatchObject({ code: CLOSE.tokenExpired });
  });

  it('a fresh token on the open socket keeps it alive; another user\'s token does not', async () => {
    const alice = await signup(t);
    const bob = await signup(t);
    const tokens = createAccessTokens(await serverKeys(), 1);
    const s = new TestSocket(t);
    await s.opened();
    s.send({ type: 'auth', token: (await tokens.issue(alice.userId, alice.username)).token });
    await s.next();
    s.send({ type: 'auth', token: alice.token });
    expect(await s.silentFor(1500)).toBe(true);
    s.send({ type: 'ping' });
    expect(await s.next()).toEqual({ type: 'pong' });
    s.send({ type: 'auth', token: bob.token });
    expect(await s.closed).toMatchObject({ code: CLOSE.policy });
  });
});
