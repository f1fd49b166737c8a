// Issue #7: a call gets STUN/TURN from the server each time (and each ICE restart); a
// credential about to expire is replaced before use.
import { describe, expect, it } from 'vitest';
import { fetchIce, ICE_REFRESH_MARGIN_MS, iceIsStale } from '../../src/client/messaging/ice-source.ts';
import type { IceConfigResponse } from '../../src/wire/index.ts';

const response: IceConfigResponse = {
  iceServers: [{ urls: ['stun:turn.example:3478'] }, { urls: ['turn:turn.example:3478?transport=udp'], username: '1700003600:u1', credential: 'x/PTjHsB6HYnurmWazUsnScm/78=' }],
  expiresAt: 1_700_003_600_000,
};

describe('ICE configuration in the client (issue #7)', () => {
  it("hands the server's servers and expiry to the call, as fresh copies", async () => {
    const ice = (await fetchIce({ ice: async () => response }))!;
    expect(ice).toEqual({ servers: response.iceServers, expiresAt: response.expiresAt });
    expect(ice.servers[1]!.urls).not.toBe(response.iceServers[1]!.urls);
  });

  it('says so when the server cannot be asked (a new call then goes without, a restart keeps what it had)', async () => {
    expect(await fetchIce({ ice: async () => Promise.reject(new Error('offline')) })).toBeUndefined();
  });

  it('replaces a credential with less than the margin left, and never one without expiry', () => {
    const ice = { servers: [], expiresAt: 1_000_000_000 };
    expect(iceIsStale(ice, ice.expiresAt - ICE_REFRESH_MARGIN_MS - 1)).toBe(false);
    expect(iceIsStale(ice, ice.expiresAt - ICE_REFRESH_MARGIN_MS + 1)).toBe(true);
    expect(iceIsStale(ice, ice.expiresAt + 1)).toBe(true);
    expect(iceIsStale({ servers: [], expiresAt: null }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});
