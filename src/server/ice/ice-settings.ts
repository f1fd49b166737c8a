// STUN and TURN settings from the environment (issue #7), checked once at start. TURN is given
// either as a list of URLs (TURN_URLS) or as a host with ports (TURN_HOST, TURN_PORT,
// TURN_TLS_PORT), always with the secret it shares with coturn (TURN_SECRET, coturn's
// static-auth-secret). Knows nothing of users or requests: credentials are made per request
// by turn-credentials.ts.
import { checkIceUrl } from '../../wire/index.ts';
import { ConfigError } from '../config-error.ts';

export interface TurnSettings {
  urls: string[];
  secret: string;
  ttlSeconds: number;
}

export interface IceSettings {
  stunUrls: string[];
  turn: TurnSettings | undefined;
}

export const DEFAULT_TURN_PORT = 3478;
export const DEFAULT_TURN_TLS_PORT = 443;
export const DEFAULT_TURN_TTL_SECONDS = 3600;
/** Anything shorter can be guessed offline from one captured credential. */
export const MIN_TURN_SECRET_CHARS = 32;

type Env = Record<string, string | undefined>;

function list(env: Env, name: string, scheme: (s: string) => boolean, what: string): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return [];
  const urls = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (urls.length > 8) throw new ConfigError(`${name} lists ${urls.length} URLs; at most 8`);
  for (const url of urls) {
    const check = checkIceUrl(url);
    if (!check.ok) throw new ConfigError(`${name}: "${url}" ${check.message}`);
    if (!scheme(check.scheme)) throw new ConfigError(`${name}: "${url}" is not a ${what} URL`);
  }
  return urls;
}

function port(env: Env, name: string, fallback: number, allowZero: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < (allowZero ? 0 : 1) || n > 65535) {
    throw new ConfigError(`${name} must be a port from ${allowZero ? 0 : 1} to 65535${allowZero ? ' (0 turns it off)' : ''}, got "${raw}"`);
  }
  return n;
}

function hostPart(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** The three ways in that work from almost anywhere: UDP, TCP, and TLS (on 443, through strict firewalls). */
function urlsFromHost(env: Env, host: string): string[] {
  const plain = port(env, 'TURN_PORT', DEFAULT_TURN_PORT, false);
  const tls = port(env, 'TURN_TLS_PORT', DEFAULT_TURN_TLS_PORT, true);
  const h = hostPart(host);
  const urls = [`turn:${h}:${plain}?transport=udp`, `turn:${h}:${plain}?transport=tcp`];
  if (tls !== 0) urls.push(`turns:${h}:${tls}?transport=tcp`);
  for (const url of urls) {
    const check = checkIceUrl(url);
    if (!check.ok) throw new ConfigError(`TURN_HOST "${host}" gives the URL "${url}", which ${check.message}`);
  }
  return urls;
}

function turnSettings(env: Env): TurnSettings | undefined {
  const host = env.TURN_HOST?.trim() || undefined;
  const fromList = list(env, 'TURN_URLS', (s) => s !== 'stun', 'turn: or turns:');
  if (host && fromList.length > 0) throw new ConfigError('Set TURN_URLS or TURN_HOST, not both');
  if (!host && (env.TURN_PORT || env.TURN_TLS_PORT)) throw new ConfigError('TURN_PORT and TURN_TLS_PORT need TURN_HOST');
  const urls = host ? urlsFromHost(env, host) : fromList;
  const secret = env.TURN_SECRET;
  if (urls.length === 0) {
    if (secret) throw new ConfigError('TURN_SECRET is set but no TURN server is: set TURN_HOST or TURN_URLS too');
    if (env.TURN_TTL_SECONDS) throw new ConfigError('TURN_TTL_SECONDS is set but no TURN server is');
    return undefined;
  }
  if (!secret) throw new ConfigError("TURN_SECRET must be set with TURN_HOST or TURN_URLS (the same value as coturn's static-auth-secret)");
  if (secret.length < MIN_TURN_SECRET_CHARS || /\s/.test(secret)) {
    throw new ConfigError(`TURN_SECRET must be at least ${MIN_TURN_SECRET_CHARS} characters without spaces (e.g. the output of: openssl rand -hex 32)`);
  }
  const rawTtl = env.TURN_TTL_SECONDS;
  let ttlSeconds = DEFAULT_TURN_TTL_SECONDS;
  if (rawTtl !== undefined && rawTtl !== '') {
    ttlSeconds = Number(rawTtl);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60 || ttlSeconds > 86_400) {
      throw new ConfigError(`TURN_TTL_SECONDS must be an integer from 60 to 86400, got "${rawTtl}"`);
    }
  }
  return { urls, secret, ttlSeconds };
}

export function loadIceSettings(env: Env): IceSettings {
  if (env.ICE_SERVERS !== undefined && env.ICE_SERVERS !== '') {
    // A static list could carry a static TURN password to every browser; refuse it loudly.
    throw new ConfigError('ICE_SERVERS is no longer read: set STUN_URLS, and TURN_HOST or TURN_URLS with TURN_SECRET (see the README)');
  }
  const turn = turnSettings(env);
  let stunUrls = list(env, 'STUN_URLS', (s) => s === 'stun', 'stun:');
  // coturn answers STUN on its plain port too, so a TURN host is also the natural STUN server.
  const host = env.TURN_HOST?.trim();
  if (env.STUN_URLS === undefined && host) stunUrls = [`stun:${hostPart(host)}:${port(env, 'TURN_PORT', DEFAULT_TURN_PORT, false)}`];
  return { stunUrls, turn };
}
