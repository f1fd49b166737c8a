// /api/auth/*: sign up, log in, refresh, log out. Rate limits run before any bcrypt work, per
// client address and per username, so neither a single host nor a botnet aimed at one account
// gets unlimited guesses.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { WireError, changePasswordRequest, loginRequest, normalizeUsername, signupRequest } from '../../wire/index.ts';
import type { AccountService, LoginOutcome } from '../auth/account-service.ts';
import type { AttemptLimiter } from '../auth/rate-limiter.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { DeviceRouter } from '../devices/device-router.ts';
import { CLOSE } from '../../wire/index.ts';
import { assertSameOrigin, requestDevice, requireUser } from './auth-guard.ts';
import { REFRESH_COOKIE, clearRefreshCookie, readCookie, setRefreshCookie } from './cookies.ts';
import { validBody } from './validate.ts';

export interface AuthRouteDeps {
  accounts: AccountService;
  tokens: AccessTokens;
  /** Every browser of an account (password change), or one (log-out). */
  bus: Pick<DeviceRouter, 'disconnect'> & { disconnectDevice(userId: string, device: string, code: number, reason: string): Promise<void> };
  limits: { loginPerIp: AttemptLimiter; loginPerUser: AttemptLimiter; signupPerIp: AttemptLimiter };
  /** Seconds each log-in past the rate limits took, successful or not (the latency metric). */
  observeLogin?: (seconds: number) => void;
}

async function limit(limiter: AttemptLimiter, key: string, reply: { header(k: string, v: string): unknown }): Promise<void> {
  const decision = await limiter.hit(key);
  if (!decision.allowed) {
    reply.header('retry-after', String(decision.retryAfterSeconds));
    throw new WireError('rate_limited', `Too many attempts. Try again in ${decision.retryAfterSeconds} seconds.`);
  }
}

export async function authRoutes(app: FastifyInstance, deps: AuthRouteDeps): Promise<void> {
  const { accounts, limits } = deps;
  const respond = (outcome: LoginOutcome, reply: Parameters<typeof setRefreshCookie>[0]) => {
    setRefreshCookie(reply, outcome.refresh.token, outcome.refresh.expiresAt);
    return outcome.session;
  };

  app.post('/api/auth/signup', async (request, reply) => {
    await limit(limits.signupPerIp, request.ip, reply);
    const body = validBody(signupRequest, request.body);
    const outcome = await accounts.signup(body);
    reply.code(201);
    return respond(outcome, reply);
  });

  app.post('/api/auth/login', async (request, reply) => {
    await limit(limits.loginPerIp, request.ip, reply);
    const body = validBody(loginRequest, request.body);
    const name = normalizeUsername(body.username);
    await limit(limits.loginPerUser, name.ok ? name.username : '(invalid)', reply);
    const started = performance.now();
    try {
      return respond(await accounts.login(body), reply);
    } finally {
      deps.observeLogin?.((performance.now() - started) / 1000);
    }
  });

  app.post('/api/auth/refresh', async (request: FastifyRequest, reply) => {
    assertSameOrigin(request);
    const token = readCookie(request, REFRESH_COOKIE);
    if (!token) throw new WireError('unauthorized', 'Not signed in.');
    try {
      return respond(await accounts.refresh(token), reply);
    } catch (e) {
      clearRefreshCookie(reply);
      throw e;
    }
  });

  app.post('/api/auth/password', async (request, reply) => {
    assertSameOrigin(request);
    const me = await requireUser(request, deps.tokens);
    limit(limits.loginPerUser, me.username, reply);
    const body = validBody(changePasswordRequest, request.body);
    const outcome = await accounts.changePassword(me.userId, body.currentPassword, body.newPassword);
    // Every open socket of this account closes; this browser reconnects with its new token.
    await deps.bus.disconnect(me.userId, CLOSE.passwordChanged, 'password changed');
    return respond(outcome, reply);
  });

  app.post('/api/auth/logout', async (request, reply) => {
    assertSameOrigin(request);
    await accounts.logout(readCookie(request, REFRESH_COOKIE));
    clearRefreshCookie(reply);
    // Close the signaling socket too, when the caller says who they are.
    const bearer = request.headers.authorization?.match(/^Bearer (.+)$/)?.[1];
    if (bearer) {
      const result = await deps.tokens.verify(bearer);
      if (result.ok) await deps.bus.disconnectDevice(result.claims.userId, requestDevice(request), CLOSE.loggedOut, 'logged out');
    }
    return reply.code(204).send();
  });
}
