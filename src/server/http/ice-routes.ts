// GET /api/ice: STUN and TURN servers for the signed-in user, with a fresh TURN credential
// (issue #7). Identity comes from the access token alone; the answer is never cached
// (security-headers.ts marks every /api/ response no-store).
import type { FastifyInstance } from 'fastify';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { IceSettings } from '../ice/ice-settings.ts';
import { iceServersFor } from '../ice/ice-servers.ts';
import { requireUser } from './auth-guard.ts';

export interface IceRouteDeps {
  tokens: AccessTokens;
  settings: IceSettings;
  now?: () => number;
}

export async function iceRoutes(app: FastifyInstance, deps: IceRouteDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  app.get('/api/ice', async (request) => {
    const me = await requireUser(request, deps.tokens);
    return iceServersFor(deps.settings, me.userId, now());
  });
}
