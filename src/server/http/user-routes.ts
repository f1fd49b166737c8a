// /api/users/:username/keys (a contact's public identity) and /api/me/identity (publish ours).
import type { FastifyInstance } from 'fastify';
import { WireError, publishIdentityRequest, type UserKeysResponse } from '../../wire/index.ts';
import type { AccountService } from '../auth/account-service.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import { requireUser } from './auth-guard.ts';
import { validBody } from './validate.ts';

export async function userRoutes(app: FastifyInstance, deps: { accounts: AccountService; tokens: AccessTokens }): Promise<void> {
  app.get<{ Params: { username: string } }>('/api/users/:username/keys', async (request): Promise<UserKeysResponse> => {
    await requireUser(request, deps.tokens);
    const found = await deps.accounts.identityOf(request.params.username);
    if (!found) throw new WireError('not_found', 'No user with that name.');
    return found;
  });

  app.put('/api/me/identity', async (request, reply) => {
    const me = await requireUser(request, deps.tokens);
    const body = validBody(publishIdentityRequest, request.body);
    await deps.accounts.publishIdentity(me.userId, body.identity);
    return reply.code(204).send();
  });
}
