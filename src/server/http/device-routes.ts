// /api/devices (the own account's browsers and its signed list), /api/users/:username/devices
// (a contact's list, for their peers to verify), and /api/links (linking a new browser).
import type { FastifyInstance } from 'fastify';
import {
  LINK_ANSWER_MAX_BYTES,
  WireError,
  appendDeviceListRequest,
  createLinkRequest,
  decodeBase64url,
  deviceIdField,
  linkAnswerRequest,
  normalizeUsername,
  renameDeviceRequest,
  resetIdentityRequest,
  LINK_REQUEST_MAX_BYTES,
  type DeviceListChainResponse,
} from '../../wire/index.ts';
import type { AccessTokens } from '../auth/access-tokens.ts';
import type { DeviceService } from '../devices/device-service.ts';
import type { Store } from '../store/types.ts';
import { requestDevice, requireUser } from './auth-guard.ts';
import { validBody } from './validate.ts';
import { identityFromWire } from '../auth/account-service.ts';
import { assertIdentity } from '../keys/verify.ts';

const LINK_ID = /^[A-Za-z0-9_-]{16,64}$/;

function bytesOf(b64: string, max: number, what: string): Uint8Array {
  const bytes = decodeBase64url(b64);
  if (!bytes || bytes.length > max) throw new WireError('bad_request', `${what} must be base64url, at most ${max} bytes.`);
  return bytes;
}

function linkId(raw: string): string {
  if (!LINK_ID.test(raw)) throw new WireError('not_found', 'This link code has expired or is not for this account. Make a new one.');
  return raw;
}

export async function deviceRoutes(app: FastifyInstance, deps: { store: Store; tokens: AccessTokens; devices: DeviceService }): Promise<void> {
  const { store, tokens, devices } = deps;

  app.get('/api/devices', async (request) => {
    const me = await requireUser(request, tokens);
    await devices.assertLinked(me.userId, requestDevice(request));
    return { devices: await devices.list(me.userId) };
  });

  app.post('/api/devices/list', { bodyLimit: 64 * 1024 }, async (request) => {
    const me = await requireUser(request, tokens);
    return devices.append({ id: me.userId, username: me.username }, requestDevice(request), validBody(appendDeviceListRequest, request.body));
  });

  app.post('/api/devices/reset', async (request) => {
    const me = await requireUser(request, tokens);
    const body = validBody(resetIdentityRequest, request.body);
    const identity = identityFromWire(body.identity, Date.now());
    await assertIdentity(identity);
    await devices.resetIdentity({ id: me.userId, username: me.username }, requestDevice(request), identity, body.name);
    return { device: '1' };
  });

  app.patch<{ Params: { id: string } }>('/api/devices/:id', async (request) => {
    const me = await requireUser(request, tokens);
    await devices.assertLinked(me.userId, requestDevice(request));
    const id = deviceIdField.safeParse(request.params.id);
    if (!id.success) throw new WireError('not_found', 'No such browser.');
    await devices.rename(me.userId, id.data, validBody(renameDeviceRequest, request.body).name);
    return { ok: true };
  });

  // A contact's list, for their peers to verify. Unknown and keyless accounts answer alike.
  app.get<{ Params: { username: string } }>('/api/users/:username/devices', async (request): Promise<DeviceListChainResponse> => {
    await requireUser(request, tokens);
    const name = normalizeUsername(request.params.username);
    const user = name.ok ? await store.users.findByUsername(name.username) : undefined;
    if (!user) throw new WireError('not_found', 'No user with that name has published keys.');
    return { username: user.username, chain: await devices.chain(user.id) };
  });

  // The new browser: signed in with the account's password, it holds no keys yet.
  app.post('/api/links', async (request) => {
    const me = await requireUser(request, tokens);
    const body = validBody(createLinkRequest, request.body);
    return devices.createLink(me.userId, body.linkId, bytesOf(body.request, LINK_REQUEST_MAX_BYTES, 'request'));
  });

  app.get<{ Params: { id: string } }>('/api/links/:id', async (request) => {
    const me = await requireUser(request, tokens);
    return devices.linkRequest(me.userId, linkId(request.params.id));
  });

  app.post<{ Params: { id: string } }>('/api/links/:id/answer', { bodyLimit: Math.ceil((LINK_ANSWER_MAX_BYTES * 4) / 3) + 1024 }, async (request) => {
    const me = await requireUser(request, tokens);
    const body = validBody(linkAnswerRequest, request.body);
    await devices.answerLink(me.userId, requestDevice(request), linkId(request.params.id), bytesOf(body.answer, LINK_ANSWER_MAX_BYTES, 'answer'));
    return { ok: true };
  });

  app.get<{ Params: { id: string } }>('/api/links/:id/answer', async (request) => {
    const me = await requireUser(request, tokens);
    return devices.linkAnswer(me.userId, linkId(request.params.id));
  });
}
