// Where a call gets its STUN and TURN servers: from the server, fresh for each call and again
// for each ICE restart (credentials expire, and the servers may have changed) (issue #7).
// Without the server a new call has none and can still connect on one network through host
// candidates; a restart keeps what it had.
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

export const NO_ICE: IceConfig = { servers: [], expiresAt: null };

/** Undefined when the server cannot be asked. */
export async function fetchIce(api: { ice(): Promise<IceConfigResponse> }): Promise<IceConfig | undefined> {
  try {
    const res = await api.ice();
    return { servers: res.iceServers.map((s) => ({ ...s, urls: [...s.urls] })), expiresAt: res.expiresAt };
  } catch {
    return undefined;
  }
}
