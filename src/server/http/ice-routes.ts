// GET /api/ice: STUN and TURN servers for the signed-in user, with a fresh TURN credential
// (issue #7). Identity comes from the access token alone; the answer is never cached
// (security-headers.ts marks every /api/ response no-store).
import type { FastifyInstance } from 'fastify';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { AttemptLimiter } from '../auth/rate-limiter.ts';
import type { IceSettings } from '../ice/ice-settings.ts';
import { WireError } from '../../wire/index.ts';
import { iceServersFor } from '../ice/ice-servers.ts';
import { requireUser } from './auth-guard.ts';

export interface IceRouteDeps {
  tokens: AccessTokens;
  settings: IceSettings;
  /** Each answer mints a TURN credential; a client needs one per call, not hundreds a minute. */
  limit: AttemptLimiter;
  now?: () => number;
}

export async function iceRoutes(app: FastifyInstance, deps: IceRouteDeps): Promise<void> {
  const now = deps.now ?? Date.now;
  app.get('/api/ice', async (request, reply) => {
    const me = await requireUser(request, deps.tokens);
    const decision = await deps.limit.hit(me.userId);
    if (!decision.allowed) {
      reply.header('retry-after', String(decision.retryAfterSeconds));
      throw new WireError('rate_limited', `Too many connection requests. Try again in ${decision.retryAfterSeconds} seconds.`);
    }
    return iceServersFor(deps.settings, me.userId, now());
  });
}
