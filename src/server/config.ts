// Server configuration from the environment (and the --role flag), checked once at start so a
// typo fails loudly before the port opens rather than at the first request that needs the value.
// Error messages name the setting, never its value when the value may be a secret.
import { badRange, type MetricsAccess } from './metrics/metrics-access.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error.ts';
import { loadIceSettings, type IceSettings } from './ice/ice-settings.ts';
import { loadAcmeSettings, type AcmeSettings } from './tls/acme-settings.ts';

export { ConfigError };

/** Which endpoints this process serves (issue #5: the API and the relay scale separately). */
export type Role = 'all' | 'api' | 'signaling';
export const ROLES: readonly Role[] = ['all', 'api', 'signaling'];

/** A private P-256 key as a JSON Web Key: what signs and verifies access tokens. */
export interface SigningJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  d: string;
  [other: string]: unknown;
}

export interface Config {
  role: Role;
  host: string;
  port: number;
  dataDir: string;
  /** Where the built web client lives; undefined serves no client (API-only tests). */
  clientDir: string | undefined;
  tls: { certFile: string; keyFile: string } | undefined;
  /** Obtain and renew the certificate from an ACME CA (issue #5); undefined: TLS files or self-signed. */
  acme: AcmeSettings | undefined;
  /** How often to look for renewed certificate files, in ms. */
  tlsReloadIntervalMs: number;
  bcryptCost: number;
  /** Algorithm for new password hashes; stored hashes of the other kind are upgraded at login. */
  passwordHash: 'bcrypt' | 'argon2id';
  /** Optional plain-HTTP port that only redirects to HTTPS (and answers ACME http-01 challenges). */
  httpRedirectPort: number | undefined;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** Extra origins allowed to open the WebSocket, besides the server's own. */
  allowedOrigins: string[];
  /** STUN and TURN servers; TURN credentials are made per user per request from these. */
  ice: IceSettings;
  logLevel: string;
  rateLimits: {
    loginPerIpPerMinute: number;
    loginPerUserPer15Minutes: number;
    signupPerIpPerHour: number;
    bundlesPerUserPerMinute: number;
    icePerUserPerMinute: number;
    framesPerSecond: number;
    frameBurst: number;
  };
  signalingAuthTimeoutMs: number;
  /** Offline queue limits per recipient (DESIGN.md: bounded by count, bytes and age). */
  queue: { maxCount: number; maxBytes: number; maxAgeMs: number };
  /**
   * Shared token keys (every process must accept every other's tokens): TOKEN_SIGNING_KEYS for
   * rotation (the first signs, all verify, each token names its key by `kid`), or
   * TOKEN_SIGNING_KEY as a list of one; undefined = the key file in DATA_DIR.
   */
  tokenSigningKeys: SigningJwk[] | undefined;
  /** PostgreSQL instead of the SQLite file (scale-out); undefined keeps SQLite. */
  database: { url: string; poolSize: number; schema: string | undefined } | undefined;
  /**
   * Addresses of load balancers whose X-Forwarded-For is believed (proxy-addr syntax), so the
   * per-address rate limits see clients rather than the balancer. Empty: trust no header.
   */
  trustProxy: string[];
  /**
   * TLS is terminated by the proxy in front (TLS_OFFLOAD=1): Parley listens on plain HTTP and
   * serves only requests that a TRUST_PROXY address says arrived over HTTPS. Saves each
   * connection OpenSSL's state (about 25 KB of RSS in bench:signaling) on the relays.
   */
  tlsOffload: boolean;
  /** Redis instead of the in-process bus (scale-out); undefined keeps the in-process bus. */
  redis: { url: string; prefix: string; presenceTtlMs: number } | undefined;
  /** Who may read /metrics: METRICS_TOKEN and METRICS_ALLOW; neither means loopback only. */
  metrics: MetricsAccess;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

function passwordAlgorithm(raw: string | undefined): 'bcrypt' | 'argon2id' {
  if (raw === undefined || raw === '' || raw === 'bcrypt') return 'bcrypt';
  if (raw === 'argon2id') return 'argon2id';
  throw new ConfigError(`PASSWORD_HASH must be "bcrypt" or "argon2id", got "${raw}"`);
}

/** `--role=all|api|signaling` (or `--role all`); any other argument is a mistake worth a stop. */
export function parseRole(argv: readonly string[]): Role {
  let role: string = 'all';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    let value: string | undefined;
    if (arg.startsWith('--role=')) value = arg.slice('--role='.length);
    else if (arg === '--role') value = argv[++i];
    else throw new ConfigError(`unknown argument "${arg.slice(0, 40)}"; the only flag is --role=${ROLES.join('|')}`);
    if (value === undefined) throw new ConfigError(`--role needs a value: ${ROLES.join(', ')}`);
    role = value;
  }
  if (!(ROLES as readonly string[]).includes(role)) throw new ConfigError(`--role must be one of ${ROLES.join(', ')}, got "${role.slice(0, 40)}"`);
  return role as Role;
}

function isBase64url(v: unknown, bytes: number): v is string {
  return typeof v === 'string' && /^[A-Za-z0-9_-]+$/.test(v) && Buffer.from(v, 'base64url').length === bytes;
}

/** The text of setting `name` or of the file `name`_FILE names, with the setting's name for errors. */
function inlineOrFile(env: NodeJS.ProcessEnv, cwd: string, name: string): { text: string; source: string } | undefined {
  const inline = env[name];
  const file = env[`${name}_FILE`];
  if (inline && file) throw new ConfigError(`set ${name} or ${name}_FILE, not both`);
  if (!inline && !file) return undefined;
  if (inline) return { text: inline, source: name };
  try {
    return { text: readFileSync(path.resolve(cwd, file!), 'utf8'), source: `${name}_FILE` };
  } catch (e) {
    throw new ConfigError(`${name}_FILE cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

function privateP256(jwk: unknown, source: string, what: string): SigningJwk {
  const k = jwk as Record<string, unknown>;
  const ok = typeof jwk === 'object' && jwk !== null && !Array.isArray(jwk) && k.kty === 'EC' && k.crv === 'P-256' && isBase64url(k.x, 32) && isBase64url(k.y, 32) && isBase64url(k.d, 32);
  if (!ok) throw new ConfigError(`${source}: ${what} must be a private P-256 JSON Web Key: {"kty":"EC","crv":"P-256","x":…,"y":…,"d":…}`);
  if (k.kid !== undefined && (typeof k.kid !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(k.kid))) throw new ConfigError(`${source}: ${what} has a "kid" that is not 1–128 printable characters`);
  return k as SigningJwk;
}

function parsedJson(text: string, source: string, expected: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ConfigError(`${source} must be ${expected} (it is not valid JSON)`);
  }
}

/**
 * The token signing keys, first one signing, all verifying: TOKEN_SIGNING_KEYS (a JSON array of
 * private P-256 JWKs, or _FILE), or TOKEN_SIGNING_KEY (one JWK, or _FILE), not both. A key's
 * text never appears in an error. Undefined: the key file in DATA_DIR.
 */
function signingKeys(env: NodeJS.ProcessEnv, cwd: string): SigningJwk[] | undefined {
  const one = inlineOrFile(env, cwd, 'TOKEN_SIGNING_KEY');
  const list = inlineOrFile(env, cwd, 'TOKEN_SIGNING_KEYS');
  if (one && list) throw new ConfigError('set TOKEN_SIGNING_KEYS (a list for rotation) or TOKEN_SIGNING_KEY (one key), not both');
  if (one) return [privateP256(parsedJson(one.text, one.source, 'a JSON Web Key'), one.source, 'the key')];
  if (!list) return undefined;
  const keys = parsedJson(list.text, list.source, 'a JSON array of JSON Web Keys');
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 16) throw new ConfigError(`${list.source} must be a JSON array of 1–16 private P-256 JSON Web Keys, the signing key first`);
  const jwks = keys.map((k, i) => privateP256(k, list.source, `key ${i + 1}`));
  const kids = jwks.map((k) => k.kid).filter((kid) => kid !== undefined);
  if (new Set(kids).size !== kids.length) throw new ConfigError(`${list.source}: two keys have the same "kid"`);
  return jwks;
}

function urlSetting(env: NodeJS.ProcessEnv, name: string, protocols: string[]): string | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The URL may hold a password: say what is wrong, not what it was.
    throw new ConfigError(`${name} is not a valid URL`);
  }
  if (!protocols.includes(url.protocol)) throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  return raw;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd(), argv: readonly string[] = []): Config {
  const dataDir = path.resolve(cwd, env.DATA_DIR || 'data');
  const certFile = env.TLS_CERT;
  const keyFile = env.TLS_KEY;
  if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError('TLS_CERT and TLS_KEY must be set together');

  const databaseUrl = urlSetting(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const schema = env.DATABASE_SCHEMA || undefined;
  // Interpolated into SET search_path and CREATE SCHEMA, so only a plain identifier will do.
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new ConfigError('DATABASE_SCHEMA must be a lower-case identifier: [a-z_][a-z0-9_]*, at most 63 characters');
  if (schema !== undefined && !databaseUrl) throw new ConfigError('DATABASE_SCHEMA needs DATABASE_URL');
  const redisUrl = urlSetting(env, 'REDIS_URL', ['redis:', 'rediss:']);
  const redisPrefix = env.REDIS_PREFIX || 'parley:';
  if (!/^[A-Za-z0-9:_.-]{1,64}$/.test(redisPrefix)) throw new ConfigError('REDIS_PREFIX must be 1–64 of [A-Za-z0-9:_.-]');

  const trustProxy = (env.TRUST_PROXY || '').split(',').map((x) => x.trim()).filter(Boolean);
  // A range so wide that, with TLS_OFFLOAD, anyone in much of the internet could claim HTTPS.
  let wideRange: string | undefined;
  for (const entry of trustProxy) {
    const [address, mask, ...rest] = entry.split('/');
    const named = entry === 'loopback' || entry === 'linklocal' || entry === 'uniquelocal';
    const cidr = rest.length === 0 && /^[0-9a-fA-F:.]{1,45}$/.test(address ?? '') && (mask === undefined || /^\d{1,3}$/.test(mask));
    if (!named && !cidr) {
      throw new ConfigError(`TRUST_PROXY takes addresses, CIDR ranges, loopback, linklocal or uniquelocal, comma-separated; got "${entry.slice(0, 60)}"`);
    }
    if (mask === undefined || named) continue;
    const ipv6 = address!.includes(':');
    const prefix = Number(mask);
    if (prefix < 1 || prefix > (ipv6 ? 128 : 32)) throw new ConfigError(`TRUST_PROXY: the range "${entry.slice(0, 60)}" has a prefix length outside 1–${ipv6 ? 128 : 32}`);
    if (prefix < (ipv6 ? 16 : 8)) wideRange ??= entry;
  }

  const metricsToken = env.METRICS_TOKEN || undefined;
  // Printable, no spaces (it travels in a header), and long enough not to be guessed.
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,512}$/.test(metricsToken)) throw new ConfigError('METRICS_TOKEN must be 16–512 printable characters without spaces (e.g. openssl rand -hex 24)');
  const metricsAllow = (env.METRICS_ALLOW || '').split(',').map((x) => x.trim()).filter(Boolean);
  for (const entry of metricsAllow) {
    const why = badRange(entry);
    if (why) throw new ConfigError(`METRICS_ALLOW takes IP addresses and CIDR ranges, comma-separated; "${entry.slice(0, 60)}": ${why}`);
  }

  const tokenSigningKeys = signingKeys(env, cwd);

  const httpRedirectPort = env.HTTP_REDIRECT_PORT ? int(env, 'HTTP_REDIRECT_PORT', 80, 1, 65535) : undefined;

  const offload = env.TLS_OFFLOAD || '';
  if (!['', '0', '1'].includes(offload)) throw new ConfigError(`TLS_OFFLOAD must be 1 (a proxy in front terminates TLS) or 0, got "${offload.slice(0, 20)}"`);
  const tlsOffload = offload === '1';
  if (tlsOffload) {
    // Plain HTTP is only safe between the proxy and Parley, and only the proxy's word says a
    // request was encrypted on the way in; a setting that belongs to serving TLS here is a mistake.
    if (trustProxy.length === 0) throw new ConfigError('TLS_OFFLOAD needs TRUST_PROXY: the addresses of the proxy that terminates TLS (its X-Forwarded-Proto says a request came over HTTPS)');
    // Everyone inside TRUST_PROXY may claim HTTPS: a range that spans much of the internet
    // would let anyone do so, and the default HOST would listen on every interface.
    if (wideRange) throw new ConfigError(`TLS_OFFLOAD: TRUST_PROXY "${wideRange.slice(0, 60)}" is too wide a range (at most /8, or /16 for IPv6): everyone in it could claim to have come over HTTPS`);
    if (!env.HOST) throw new ConfigError('TLS_OFFLOAD needs HOST: the address only the proxy can reach (127.0.0.1 when it runs on the same host)');
    if (certFile) throw new ConfigError('TLS_OFFLOAD and TLS_CERT/TLS_KEY exclude each other: with TLS_OFFLOAD the proxy holds the certificate');
    if (env.ACME_DOMAINS) throw new ConfigError('TLS_OFFLOAD and ACME_DOMAINS exclude each other: with TLS_OFFLOAD the proxy holds the certificate');
    if (httpRedirectPort !== undefined) throw new ConfigError('TLS_OFFLOAD and HTTP_REDIRECT_PORT exclude each other: with TLS_OFFLOAD the proxy redirects plain HTTP');
  }

  return {
    role: parseRole(argv),
    host: env.HOST || '0.0.0.0',
    port: int(env, 'PORT', 8443, 0, 65535),
    dataDir,
    clientDir: env.CLIENT_DIR === '' ? undefined : path.resolve(cwd, env.CLIENT_DIR || 'dist/client'),
    tls: certFile && keyFile ? { certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile) } : undefined,
    acme: loadAcmeSettings(env, cwd, { tls: Boolean(certFile), httpPort: httpRedirectPort }),
    tlsReloadIntervalMs: int(env, 'TLS_RELOAD_INTERVAL_MS', 60_000, 100, 86_400_000),
    // DESIGN.md: cost 12. Lower values exist only so test suites can create many accounts.
    bcryptCost: int(env, 'BCRYPT_COST', 12, 4, 15),
    passwordHash: passwordAlgorithm(env.PASSWORD_HASH),
    httpRedirectPort,
    accessTokenTtlSeconds: int(env, 'ACCESS_TOKEN_TTL', 900, 30, 900),
    refreshTokenTtlSeconds: int(env, 'REFRESH_TOKEN_TTL', 30 * 86_400, 60, 365 * 86_400),
    allowedOrigins: (env.ALLOWED_ORIGINS || '').split(',').map((s) => s.trim()).filter(Boolean),
    ice: loadIceSettings(env),
    logLevel: env.LOG_LEVEL || 'info',
    rateLimits: {
      loginPerIpPerMinute: int(env, 'LOGIN_LIMIT_PER_IP', 30, 1, 1_000_000),
      loginPerUserPer15Minutes: int(env, 'LOGIN_LIMIT_PER_USER', 10, 1, 1_000_000),
      signupPerIpPerHour: int(env, 'SIGNUP_LIMIT_PER_IP', 20, 1, 1_000_000),
      bundlesPerUserPerMinute: int(env, 'BUNDLE_LIMIT_PER_USER', 60, 1, 1_000_000),
      icePerUserPerMinute: int(env, 'ICE_LIMIT_PER_USER', 60, 1, 1_000_000),
      framesPerSecond: int(env, 'SIGNALING_FRAMES_PER_SECOND', 20, 1, 1_000_000),
      frameBurst: int(env, 'SIGNALING_FRAME_BURST', 60, 1, 1_000_000),
    },
    signalingAuthTimeoutMs: int(env, 'SIGNALING_AUTH_TIMEOUT_MS', 10_000, 100, 600_000),
    queue: {
      maxCount: int(env, 'QUEUE_MAX_MESSAGES', 10_000, 1, 10_000_000),
      maxBytes: int(env, 'QUEUE_MAX_BYTES', 100 * 1024 * 1024, 1024, 100 * 1024 * 1024 * 1024),
      maxAgeMs: int(env, 'QUEUE_MAX_AGE_SECONDS', 30 * 86_400, 1, 10 * 365 * 86_400) * 1000,
    },
    tokenSigningKeys,
    trustProxy,
    tlsOffload,
    metrics: { token: metricsToken, allow: metricsAllow },
    database: databaseUrl ? { url: databaseUrl, poolSize: int(env, 'DATABASE_POOL_SIZE', 10, 1, 1000), schema } : undefined,
    redis: redisUrl ? { url: redisUrl, prefix: redisPrefix, presenceTtlMs: int(env, 'PRESENCE_TTL_MS', 15_000, 1000, 600_000) } : undefined,
  };
}
