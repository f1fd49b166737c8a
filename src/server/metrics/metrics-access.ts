// Who may read /metrics (issue #20). The counters name no one, but they show traffic, load and
// the store's health to whoever reaches the port, and README's nginx block was the only thing
// keeping them in. METRICS_TOKEN asks for a bearer token; METRICS_ALLOW names the addresses a
// scraper may come from; with both, both are needed. With neither, /metrics answers loopback
// only, and to everyone else it does not exist. "Loopback" there means a direct connection: a
// proxy on the same host connects from 127.0.0.1 for every client, so a request that carries a
// proxy's forwarding header is not a local scraper's, whether or not TRUST_PROXY names the proxy.
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';

export interface MetricsAccess {
  /** Bearer token a scraper must send; undefined asks for none. */
  token: string | undefined;
  /** Address ranges a scraper may come from ("10.0.0.0/8", "2001:db8::/32", "192.0.2.7"); empty: any, or loopback when no token is set either. */
  allow: string[];
}

export type MetricsVerdict = 'ok' | 'no-token' | 'not-allowed' | 'hidden';

/** Why an entry of METRICS_ALLOW is not an address or range, or undefined when it is one. */
export function badRange(entry: string): string | undefined {
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length) return 'not an IPv4 or IPv6 address or CIDR range';
  if (prefix === undefined) return undefined;
  const max = family === 6 ? 128 : 32;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= max ? undefined : `the prefix length must be 0–${max}`;
}

/** An IPv4 address written as IPv6 (::ffff:a.b.c.d) is the IPv4 one. */
function plain(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]! : ip;
}

function rangeList(ranges: string[]): BlockList {
  const list = new BlockList();
  for (const r of ranges) {
    const [address, prefix] = r.split('/') as [string, string | undefined];
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

const LOOPBACK = rangeList(['127.0.0.0/8', '::1/128']);
const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Headers a proxy adds when it passes a request on; a local scraper sends none of them. Beyond
 * the client's address, a proxy that passes only the scheme or host (TLS offload) or its own
 * name (Via) shows itself too.
 */
export const FORWARDING_HEADERS = ['x-forwarded-for', 'forwarded', 'x-real-ip', 'x-forwarded-proto', 'x-forwarded-host', 'via', 'x-client-ip', 'true-client-ip'] as const;

/**
 * A check for one configuration: the client's address (as the server resolved it, through
 * TRUST_PROXY), its Authorization header, and whether a proxy forwarded it → verdict.
 */
export function metricsGate(access: MetricsAccess): (ip: string, authorization: string | undefined, forwarded: boolean) => MetricsVerdict {
  const allowed = access.allow.length ? rangeList(access.allow) : undefined;
  const wanted = access.token === undefined ? undefined : digest(access.token);
  return (ip, authorization, forwarded) => {
    const address = plain(ip);
    const type = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (!wanted && !allowed) return !forwarded && isIP(address) !== 0 && LOOPBACK.check(address, type) ? 'ok' : 'hidden';
    if (allowed && (isIP(address) === 0 || !allowed.check(address, type))) return 'not-allowed';
    if (wanted) {
      const given = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      // Compared as digests, in constant time, so neither the token nor its length leaks.
      if (given === undefined || !timingSafeEqual(digest(given), wanted)) return 'no-token';
    }
    return 'ok';
  };
}
