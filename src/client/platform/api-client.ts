// The JSON API as the browser sees it. Holds the access token in memory only (never in
// storage a script injection could read later); the refresh token is an httpOnly cookie the
// browser attaches by itself. Every response is validated before use.
import {
  contactsResponse,
  iceConfigResponse,
  isErrorCode,
  keyStatusResponse,
  parseWith,
  preKeyBundleResponse,
  sessionResponse,
  userKeysResponse,
  type AddOneTimePreKeysRequest,
  type ContactView,
  type ErrorCode,
  type IceConfigResponse,
  type IdentityKeys,
  type KeyStatusResponse,
  type PreKeyBundleResponse,
  type PublishKeysRequest,
  type SessionResponse,
  type UserKeysResponse,
  DEVICE_HEADER,
  FIRST_DEVICE_ID,
  deviceListChainResponse,
  devicesResponse,
  linkAnswerResponse,
  linkCreatedResponse,
  linkRequestResponse,
  type AppendDeviceListRequest,
  type DeviceListChainResponse,
  type DeviceView,
} from '../../wire/index.ts';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | 'network',
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function request(method: string, path: string, body: unknown, token: string | undefined, device = FIRST_DEVICE_ID): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (device !== FIRST_DEVICE_ID) headers[DEVICE_HEADER] = device;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError('network', 'Cannot reach the Parley server. Check your connection.', 0);
  }
  if (res.status === 204) return undefined;
  const data: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = (data as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = isErrorCode(err?.code) ? err.code : 'internal';
    const message = typeof err?.message === 'string' ? err.message : `The server answered ${res.status}.`;
    throw new ApiError(code, message, res.status);
  }
  return data;
}

function session(data: unknown): SessionResponse {
  const parsed = parseWith(sessionResponse, data);
  if (!parsed.ok) throw new ApiError('internal', 'The server sent an unexpected answer.', 200);
  return parsed.value;
}

export class ApiClient {
  /** Which of the account's browsers this is (issue #17); browser 1 sends no header, as v1 did. */
  device: string = FIRST_DEVICE_ID;
  private accessToken: string | undefined;
  private expiresAt = 0;
  private refreshing: Promise<SessionResponse> | undefined;
  /** Told about every new session, so the signaling socket can re-authenticate. */
  onSession: ((s: SessionResponse) => void) | undefined;

  private adopt(s: SessionResponse): SessionResponse {
    this.accessToken = s.accessToken;
    this.expiresAt = s.expiresAt;
    this.onSession?.(s);
    return s;
  }

  async signup(username: string, password: string, identity: IdentityKeys): Promise<SessionResponse> {
    return this.adopt(session(await request('POST', '/api/auth/signup', { username, password, identity }, undefined)));
  }

  async login(username: string, password: string): Promise<SessionResponse> {
    return this.adopt(session(await request('POST', '/api/auth/login', { username, password }, undefined)));
  }

  /** Uses the refresh cookie; concurrent callers share one request (the token rotates on use). */
  refresh(): Promise<SessionResponse> {
    this.refreshing ??= request('POST', '/api/auth/refresh', undefined, undefined)
      .then((d) => this.adopt(session(d)))
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Changes the password; the server ends every other session and returns a new one for us. */
  async changePassword(currentPassword: string, newPassword: string): Promise<SessionResponse> {
    return this.adopt(session(await request('POST', '/api/auth/password', { currentPassword, newPassword }, await this.token())));
  }

  /** Forgets the cached access token (the server refused it), so the next use refreshes. */
  invalidate(): void {
    this.expiresAt = 0;
  }

  async logout(): Promise<void> {
    const token = this.accessToken;
    this.accessToken = undefined;
    this.expiresAt = 0;
    // Only this browser's socket is closed: the account's other browsers stay signed in.
    await request('POST', '/api/auth/logout', undefined, token, this.device).catch(() => undefined);
    this.device = FIRST_DEVICE_ID;
  }

  /** A token valid for at least another 30 seconds, refreshing if needed. */
  async token(): Promise<string> {
    if (this.accessToken && this.expiresAt - Date.now() > 30_000) return this.accessToken;
    return (await this.refresh()).accessToken;
  }

  get tokenExpiresAt(): number {
    return this.expiresAt;
  }

  private async authed(method: string, path: string, body?: unknown): Promise<unknown> {
    // Outside the try: a refresh that fails here (the login ended) is not tried a second time.
    const token = await this.token();
    try {
      return await request(method, path, body, token, this.device);
    } catch (e) {
      // A refused token gets one fresh try, as the socket does: besides expiry, a process that
      // does not hold the token's key yet (a rotation done out of order, docs/deploy.md) refuses
      // it, and a new token heals that. A login that really ended fails at the refresh.
      if (e instanceof ApiError && (e.code === 'token_expired' || e.code === 'unauthorized')) {
        this.invalidate();
        return request(method, path, body, (await this.refresh()).accessToken, this.device);
      }
      throw e;
    }
  }

  async userKeys(username: string): Promise<UserKeysResponse> {
    const data = await this.authed('GET', `/api/users/${encodeURIComponent(username)}/keys`);
    const parsed = parseWith(userKeysResponse, data);
    if (!parsed.ok) throw new ApiError('internal', 'The server sent malformed keys.', 200);
    return parsed.value;
  }

  async bundle(username: string, device = FIRST_DEVICE_ID): Promise<PreKeyBundleResponse> {
    const query = device === FIRST_DEVICE_ID ? '' : `?device=${encodeURIComponent(device)}`;
    const parsed = parseWith(preKeyBundleResponse, await this.authed('GET', `/api/users/${encodeURIComponent(username)}/bundle${query}`));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent a malformed key bundle.', 200);
    return parsed.value;
  }

  async keyStatus(): Promise<KeyStatusResponse> {
    const parsed = parseWith(keyStatusResponse, await this.authed('GET', '/api/keys'));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent a malformed key status.', 200);
    return parsed.value;
  }

  async publishKeys(body: PublishKeysRequest): Promise<void> {
    await this.authed('PUT', '/api/keys', body);
  }

  async addOneTimePreKeys(body: AddOneTimePreKeysRequest): Promise<void> {
    await this.authed('POST', '/api/keys/one-time', body);
  }

  async contacts(): Promise<ContactView[]> {
    const parsed = parseWith(contactsResponse, await this.authed('GET', '/api/contacts'));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent a malformed contact list.', 200);
    return parsed.value.contacts;
  }

  async setContact(username: string, state: 'added' | 'blocked'): Promise<void> {
    await this.authed('PUT', `/api/contacts/${encodeURIComponent(username)}`, { state });
  }

  async removeContact(username: string): Promise<void> {
    await this.authed('DELETE', `/api/contacts/${encodeURIComponent(username)}`);
  }

  // ---- several browsers per account (issue #17)

  /** Every version of `username`'s signed list of browsers, oldest first (to verify, not to trust). */
  async deviceChain(username: string): Promise<DeviceListChainResponse> {
    const parsed = parseWith(deviceListChainResponse, await this.authed('GET', `/api/users/${encodeURIComponent(username)}/devices`));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent a malformed list of browsers.', 200);
    return parsed.value;
  }

  async devices(): Promise<DeviceView[]> {
    const parsed = parseWith(devicesResponse, await this.authed('GET', '/api/devices'));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent a malformed list of browsers.', 200);
    return parsed.value.devices;
  }

  async appendDeviceList(body: AppendDeviceListRequest): Promise<void> {
    await this.authed('POST', '/api/devices/list', body);
  }

  /** "Reset identity": this browser becomes browser 1 of the account with `identity`; the others are unlinked. */
  async resetIdentity(identity: IdentityKeys, name: string): Promise<void> {
    await this.authed('POST', '/api/devices/reset', { identity, name });
  }

  async renameDevice(id: string, name: string): Promise<void> {
    await this.authed('PATCH', `/api/devices/${encodeURIComponent(id)}`, { name });
  }

  async createLink(linkId: string, request: string): Promise<{ linkId: string; expiresAt: number }> {
    const parsed = parseWith(linkCreatedResponse, await this.authed('POST', '/api/links', { linkId, request }));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent an unexpected answer.', 200);
    return parsed.value;
  }

  async linkRequest(linkId: string): Promise<{ request: string; expiresAt: number }> {
    const parsed = parseWith(linkRequestResponse, await this.authed('GET', `/api/links/${encodeURIComponent(linkId)}`));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent an unexpected answer.', 200);
    return parsed.value;
  }

  async answerLink(linkId: string, answer: string): Promise<void> {
    await this.authed('POST', `/api/links/${encodeURIComponent(linkId)}/answer`, { answer });
  }

  async linkAnswer(linkId: string): Promise<string | null> {
    const parsed = parseWith(linkAnswerResponse, await this.authed('GET', `/api/links/${encodeURIComponent(linkId)}/answer`));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent an unexpected answer.', 200);
    return parsed.value.answer;
  }

  /** STUN and TURN servers with a TURN credential made for us now (it expires: fetch one per call). */
  async ice(): Promise<IceConfigResponse> {
    const parsed = parseWith(iceConfigResponse, await this.authed('GET', '/api/ice'));
    if (!parsed.ok) throw new ApiError('internal', 'The server sent a malformed ICE configuration.', 200);
    return parsed.value;
  }
}
