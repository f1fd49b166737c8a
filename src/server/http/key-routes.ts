// /api/keys (our own prekeys) and /api/users/:username/bundle and /keys (a contact's).
import type { FastifyInstance } from 'fastify';
import { FIRST_DEVICE_ID, KEYS_BODY_LIMIT, WireError, isDeviceId, addOneTimePreKeysRequest, publishKeysRequest, type UserKeysResponse } from '../../wire/index.ts';
import type { AccountService } from '../auth/account-service.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { AttemptLimiter } from '../auth/rate-limiter.ts';
import type { KeyDirectory } from '../keys/key-directory.ts';
import { requestDevice, requireUser } from './auth-guard.ts';
import type { DeviceService } from '../devices/device-service.ts';
import { validBody } from './validate.ts';

export interface KeyRouteDeps {
  accounts: AccountService;
  directory: KeyDirectory;
  tokens: AccessTokens;
  /** Bundle fetches per requesting user: draining someone's one-time prekeys must be slow. */
  bundleLimit: AttemptLimiter;
  devices: DeviceService;
}

const unavailable = () => new WireError('not_found', 'No user with that name has published keys.');

export async function keyRoutes(app: FastifyInstance, deps: KeyRouteDeps): Promise<void> {
  app.put('/api/keys', { bodyLimit: KEYS_BODY_LIMIT }, async (request) => {
    const me = await requireUser(request, deps.tokens);
    const device = requestDevice(request);
    await deps.devices.assertLinked(me.userId, device);
    const body = validBody(publishKeysRequest, request.body);
    const published = await deps.directory.publish(me.userId, body, Date.now(), device);
    // New keys for browser 1 are a new identity: its old list of browsers means nothing now.
    await deps.devices.identityPublished({ id: me.userId, username: me.username }, device);
    return published;
  });

  app.post('/api/keys/one-time', { bodyLimit: KEYS_BODY_LIMIT }, async (request) => {
    const me = await requireUser(request, deps.tokens);
    const device = requestDevice(request);
    await deps.devices.assertLinked(me.userId, device);
    return deps.directory.addOneTime(me.userId, validBody(addOneTimePreKeysRequest, request.body), device);
  });

  app.get('/api/keys', async (request) => {
    const me = await requireUser(request, deps.tokens);
    const device = requestDevice(request);
    await deps.devices.assertLinked(me.userId, device);
    return deps.directory.status(me.userId, device);
  });

  app.get<{ Params: { username: string }; Querystring: { device?: string } }>('/api/users/:username/bundle', async (request, reply) => {
    const me = await requireUser(request, deps.tokens);
    const decision = await deps.bundleLimit.hit(me.userId);
    if (!decision.allowed) {
      reply.header('retry-after', String(decision.retryAfterSeconds));
      throw new WireError('rate_limited', `Too many key requests. Try again in ${decision.retryAfterSeconds} seconds.`);
    }
    const device = request.query.device ?? FIRST_DEVICE_ID;
    if (!isDeviceId(device)) throw unavailable();
    const bundle = await deps.directory.bundle(request.params.username, device);
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
