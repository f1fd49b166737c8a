// The ICE configuration the server hands a signed-in browser before each call (issue #7): STUN
// and TURN server URLs, and for TURN a credential made for this user that expires. One URL
// grammar serves both ends: the server checks its settings with it at start, the browser checks
// the answer with it before giving anything to RTCPeerConnection.
import { z } from 'zod';

/**
 * A STUN or TURN URI: `stun:host[:port]` (RFC 7064 §3.1), `turn:` / `turns:host[:port]
 * [?transport=udp|tcp]` (RFC 7065 §3.1). Host is a DNS name, an IPv4 address or a bracketed IPv6
 * address. `stuns:` and `turns:…?transport=udp` (DTLS) are refused: browsers do not speak them.
 */
const ICE_URL = /^(stun|turns?):(\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)(?::(\d{1,5}))?(?:\?transport=(udp|tcp))?$/;

export type IceUrlCheck = { ok: true; scheme: 'stun' | 'turn' | 'turns' } | { ok: false; message: string };

export function checkIceUrl(url: string): IceUrlCheck {
  if (url.length > 300) return { ok: false, message: 'is longer than 300 characters' };
  const m = ICE_URL.exec(url);
  if (!m) return { ok: false, message: 'is not a stun:, turn: or turns: URL of the form scheme:host[:port][?transport=udp|tcp]' };
  const scheme = m[1] as 'stun' | 'turn' | 'turns';
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return { ok: false, message: 'has a port outside 1–65535' };
  if (scheme === 'stun' && m[4] !== undefined) return { ok: false, message: 'is a stun: URL, which takes no transport' };
  if (scheme === 'turns' && m[4] === 'udp') return { ok: false, message: 'asks for TURN over DTLS (turns: with transport=udp), which browsers do not support' };
  return { ok: true, scheme };
}

const iceUrl = z.string().superRefine((url, ctx) => {
  const check = checkIceUrl(url);
  if (!check.ok) ctx.addIssue({ code: 'custom', message: `ICE server URL ${check.message}` });
});

export const MAX_ICE_SERVERS = 8;
export const MAX_URLS_PER_ICE_SERVER = 8;

const stunServer = z.object({
  urls: z.array(iceUrl.refine((u) => u.startsWith('stun:'), 'a STUN entry lists stun: URLs only')).min(1).max(MAX_URLS_PER_ICE_SERVER),
});

const turnServer = z.object({
  urls: z.array(iceUrl.refine((u) => u.startsWith('turn'), 'a TURN entry lists turn: or turns: URLs only')).min(1).max(MAX_URLS_PER_ICE_SERVER),
  /** TURN REST API username: `<expiry, unix seconds>:<user id>`. */
  username: z.string().regex(/^\d{1,12}:[^\s:]{1,128}$/, 'TURN username must be <expiry>:<user id>'),
  /** base64(HMAC-SHA1(secret, username)): 20 bytes, 28 characters. */
  credential: z.string().regex(/^[A-Za-z0-9+/]{27}=$/, 'TURN credential must be a base64 HMAC-SHA1'),
});

export const iceConfigResponse = z.object({
  iceServers: z.array(z.union([turnServer, stunServer])).max(MAX_ICE_SERVERS),
  /** When the TURN credential stops working (ms since the epoch); null when no TURN is configured. */
  expiresAt: z.number().int().positive().nullable(),
});
export type IceConfigResponse = z.infer<typeof iceConfigResponse>;
