// /api/keys (our own prekeys) and /api/users/:username/bundle and /keys (a contact's).
import type { FastifyInstance } from 'fastify';
import { KEYS_BODY_LIMIT, WireError, addOneTimePreKeysRequest, publishKeysRequest, type UserKeysResponse } from '../../wire/index.ts';
import type { AccountService } from '../auth/account-service.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { AttemptLimiter } from '../auth/rate-limiter.ts';
import type { KeyDirectory } from '../keys/key-directory.ts';
import { requireUser } from './auth-guard.ts';
import { validBody } from './validate.ts';

export interface KeyRouteDeps {
  accounts: AccountService;
  directory: KeyDirectory;
  tokens: AccessTokens;
  /** Bundle fetches per requesting user: draining someone's one-time prekeys must be slow. */
  bundleLimit: AttemptLimiter;
}

const unavailable = () => new WireError('not_found', 'No user with that name has published keys.');

export async function keyRoutes(app: FastifyInstance, deps: KeyRouteDeps): Promise<void> {
  app.put('/api/keys', { bodyLimit: KEYS_BODY_LIMIT }, async (request) => {
    const me = await requireUser(request, deps.tokens);
    return deps.directory.publish(me.userId, validBody(publishKeysRequest, request.body));
  });

  app.post('/api/keys/one-time', { bodyLimit: KEYS_BODY_LIMIT }, async (request) => {
    const me = await requireUser(request, deps.tokens);
    return deps.directory.addOneTime(me.userId, validBody(addOneTimePreKeysRequest, request.body));
  });

  app.get('/api/keys', async (request) => {
    const me = await requireUser(request, deps.tokens);
    return deps.directory.status(me.userId);
  });

  app.get<{ Params: { username: string } }>('/api/users/:username/bundle', async (request, reply) => {
    const me = await requireUser(request, deps.tokens);
    const decision = await deps.bundleLimit.hit(me.userId);
    if (!decision.allowed) {
      reply.header('retry-after', String(decision.retryAfterSeconds));
      throw new WireError('rate_limited', `Too many key requests. Try again in ${decision.retryAfterSeconds} seconds.`);
    }
    const bundle = await deps.directory.bundle(request.params.username);
    if (!bundle) throw unavailable();
    return bundle;
  });

  app.get<{ Params: { username: string } }>('/api/users/:username/keys', async (request): Promise<UserKeysResponse> => {
    await requireUser(request, deps.tokens);
    const found = await deps.accounts.identityOf(request.params.username);
    if (!found) throw unavailable();
    return found;
  });
}
