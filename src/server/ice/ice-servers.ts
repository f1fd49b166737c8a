// The ICE configuration for one user at one moment: the configured STUN URLs, and the TURN URLs
// with a credential made now for this user. Called on every request, so a browser never holds
// a TURN credential older than the call it is about to make.
import type { IceConfigResponse } from '../../wire/index.ts';
import type { IceSettings } from './ice-settings.ts';
import { turnCredential } from './turn-credentials.ts';

export function iceServersFor(settings: IceSettings, userId: string, nowMs: number): IceConfigResponse {
  const iceServers: IceConfigResponse['iceServers'] = [];
  if (settings.stunUrls.length > 0) iceServers.push({ urls: [...settings.stunUrls] });
  if (!settings.turn) return { iceServers, expiresAt: null };
  const { username, credential, expiresAt } = turnCredential(settings.turn.secret, userId, nowMs, settings.turn.ttlSeconds);
  iceServers.push({ urls: [...settings.turn.urls], username, credential });
  return { iceServers, expiresAt };
}
