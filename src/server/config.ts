// Server configuration from the environment, checked once at start so a typo fails loudly
// before the port opens rather than at the first request that needs the value.
import path from 'node:path';
import { ConfigError } from './config-error.ts';
import { loadIceSettings, type IceSettings } from './ice/ice-settings.ts';

export { ConfigError };

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Where the built web client lives; undefined serves no client (API-only tests). */
  clientDir: string | undefined;
  tls: { certFile: string; keyFile: string } | undefined;
  /** How often to look for renewed certificate files, in ms. */
  tlsReloadIntervalMs: number;
  bcryptCost: number;
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
    framesPerSecond: number;
    frameBurst: number;
  };
  signalingAuthTimeoutMs: number;
  /** Offline queue limits per recipient (DESIGN.md: bounded by count, bytes and age). */
  queue: { maxCount: number; maxBytes: number; maxAgeMs: number };
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const dataDir = path.resolve(cwd, env.DATA_DIR || 'data');
  const certFile = env.TLS_CERT;
  const keyFile = env.TLS_KEY;
  if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError('TLS_CERT and TLS_KEY must be set together');

  return {
    host: env.HOST || '0.0.0.0',
    port: int(env, 'PORT', 8443, 0, 65535),
    dataDir,
    clientDir: env.CLIENT_DIR === '' ? undefined : path.resolve(cwd, env.CLIENT_DIR || 'dist/client'),
    tls: certFile && keyFile ? { certFile: path.resolve(cwd, certFile), keyFile: path.resolve(cwd, keyFile) } : undefined,
    tlsReloadIntervalMs: int(env, 'TLS_RELOAD_INTERVAL_MS', 60_000, 100, 86_400_000),
    // DESIGN.md: cost 12. Lower values exist only so test suites can create many accounts.
    bcryptCost: int(env, 'BCRYPT_COST', 12, 4, 15),
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
      framesPerSecond: int(env, 'SIGNALING_FRAMES_PER_SECOND', 20, 1, 1_000_000),
      frameBurst: int(env, 'SIGNALING_FRAME_BURST', 60, 1, 1_000_000),
    },
    signalingAuthTimeoutMs: int(env, 'SIGNALING_AUTH_TIMEOUT_MS', 10_000, 100, 600_000),
    queue: {
      maxCount: int(env, 'QUEUE_MAX_MESSAGES', 10_000, 1, 10_000_000),
      maxBytes: int(env, 'QUEUE_MAX_BYTES', 100 * 1024 * 1024, 1024, 100 * 1024 * 1024 * 1024),
      maxAgeMs: int(env, 'QUEUE_MAX_AGE_SECONDS', 30 * 86_400, 1, 10 * 365 * 86_400) * 1000,
    },
  };
}
