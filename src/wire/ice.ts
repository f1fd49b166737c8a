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
// Read piece by piece with flat patterns: one nested pattern for the whole URL is what
// backtracks badly (and what the security lint refuses).
const SCHEME = /^(stun|turns?):/;
const TRANSPORT = /\?transport=(udp|tcp)$/;
const PORT = /:(\d{1,5})$/;
const IPV6 = /^\[[0-9A-Fa-f:.]{2,45}\]$/;
/** One DNS label (RFC 1123 §2.1): letters, digits and hyphens, not at either end. */
const DNS_LABEL = /^[A-Za-z0-9-]{1,63}$/;

function isHost(host: string): boolean {
  if (IPV6.test(host)) return true;
  if (host.length === 0 || host.length > 253) return false;
  return host.split('.').every((label) => DNS_LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-'));
}

export type IceUrlCheck = { ok: true; scheme: 'stun' | 'turn' | 'turns' } | { ok: false; message: string };

export function checkIceUrl(url: string): IceUrlCheck {
  if (url.length > 300) return { ok: false, message: 'is longer than 300 characters' };
  const bad: IceUrlCheck = { ok: false, message: 'is not a stun:, turn: or turns: URL of the form scheme:host[:port][?transport=udp|tcp]' };
  const schemeMatch = SCHEME.exec(url);
  if (!schemeMatch) return bad;
  const scheme = schemeMatch[1] as 'stun' | 'turn' | 'turns';
  let rest = url.slice(schemeMatch[0].length);
  const transportMatch = TRANSPORT.exec(rest);
  const transport = transportMatch?.[1];
  if (transportMatch) rest = rest.slice(0, transportMatch.index);
  const portMatch = PORT.exec(rest);
  const port = portMatch ? Number(portMatch[1]) : undefined;
  if (portMatch) rest = rest.slice(0, portMatch.index);
  if (!isHost(rest)) return bad;
  if (port !== undefined && (port < 1 || port > 65535)) return { ok: false, message: 'has a port outside 1–65535' };
  if (scheme === 'stun' && transport !== undefined) return { ok: false, message: 'is a stun: URL, which takes no transport' };
  if (scheme === 'turns' && transport === 'udp') return { ok: false, message: 'asks for TURN over DTLS (turns: with transport=udp), which browsers do not support' };
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
