// Where a call gets its STUN and TURN servers: from the server, fresh for each call and again
// before an ICE restart when the TURN credential is about to expire (issue #7). Without the
// server there are none, and a call can still connect on one network through host candidates.
import type { IceConfigResponse } from '../../wire/index.ts';

export interface IceConfig {
  servers: RTCIceServer[];
  /** When the TURN credential expires (ms since the epoch); null when there is none. */
  expiresAt: number | null;
}

/** A credential with less than this left is replaced before it is used again. */
export const ICE_REFRESH_MARGIN_MS = 5 * 60_000;

export function iceIsStale(ice: IceConfig, now: number): boolean {
  return ice.expiresAt !== null && ice.expiresAt - now < ICE_REFRESH_MARGIN_MS;
}

export async function fetchIce(api: { ice(): Promise<IceConfigResponse> }): Promise<IceConfig> {
  try {
    const res = await api.ice();
    return { servers: res.iceServers.map((s) => ({ ...s, urls: [...s.urls] })), expiresAt: res.expiresAt };
  } catch {
    return { servers: [], expiresAt: null };
  }
}
