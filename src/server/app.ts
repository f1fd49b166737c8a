// Builds a whole Parley server from a Config: store, token keys, HTTPS, API, client, signaling.
// A factory returning { url, close } so tests run it in-process on port 0 and main.ts runs it
// for real; nothing here reads process.env.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Server } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { API_BODY_LIMIT } from '../wire/index.ts';
import type { Config } from './config.ts';
import { openSqliteStore } from './store/sqlite/index.ts';
import type { Store } from './store/types.ts';
import { createBcryptHasher, type PasswordHasher } from './auth/password-hasher.ts';
import { createAccessTokens, loadOrCreateSigningKeys } from './auth/access-tokens.ts';
import { RefreshTokens } from './auth/refresh-tokens.ts';
import { AccountService } from './auth/account-service.ts';
import { RateLimiter } from './auth/rate-limiter.ts';
import { createMemoryBus } from './bus/memory.ts';
import type { Bus } from './bus/types.ts';
import { installErrorHandler } from './http/errors.ts';
import { installSecurityHeaders } from './http/security-headers.ts';
import { installJsonParser } from './http/json-body.ts';
import { authRoutes } from './http/auth-routes.ts';
import { keyRoutes } from './http/key-routes.ts';
import { iceRoutes } from './http/ice-routes.ts';
import { KeyDirectory } from './keys/key-directory.ts';
import { staticClient } from './http/static-client.ts';
import { attachSignaling } from './signaling/server.ts';
import { QueueService } from './queue/queue-service.ts';
import type { QueueStore } from './store/types.ts';
import { ensureSelfSigned } from './tls/self-signed.ts';
import { loadCertificate, watchCertificate } from './tls/certificate-source.ts';

export interface ParleyServer {
  app: FastifyInstance;
  url: string;
  port: number;
  store: Store;
  /** Re-reads the certificate files now (also done on a timer). */
  reloadCertificate(): Promise<void>;
  close(): Promise<void>;
}

export interface ServerOverrides {
  logger?: FastifyBaseLogger | boolean;
  hasher?: PasswordHasher;
  store?: Store;
  bus?: Bus;
  /** Replaces the store's offline queue (the queue benchmark's in-memory baseline). */
  queue?: QueueStore;
}

export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<ParleyServer> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const certFiles = config.tls ?? (await ensureSelfSigned(config.dataDir));
  const certificate = await loadCertificate(certFiles);

  const app = Fastify({
    https: { cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' },
    bodyLimit: API_BODY_LIMIT,
    trustProxy: false,
    logger:
      overrides.logger === undefined
        ? { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'] }
        : overrides.logger === true
          ? { level: config.logLevel }
          : overrides.logger,
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
  });

  const baseStore = overrides.store ?? openSqliteStore(path.join(config.dataDir, 'parley.sqlite'));
  const store: Store = overrides.queue ? { ...baseStore, queue: overrides.queue, close: () => baseStore.close() } : baseStore;
  const bus = overrides.bus ?? createMemoryBus();
  const tokens = createAccessTokens(await loadOrCreateSigningKeys(config.dataDir), config.accessTokenTtlSeconds);
  const refreshTokens = new RefreshTokens(store.refreshTokens, config.refreshTokenTtlSeconds * 1000);
  const hasher = overrides.hasher ?? createBcryptHasher(config.bcryptCost);
  const accounts = new AccountService(store, hasher, tokens, refreshTokens);

  installErrorHandler(app);
  installJsonParser(app);
  installSecurityHeaders(app);
  await authRoutes(app, {
    accounts,
    tokens,
    bus,
    limits: {
      loginPerIp: new RateLimiter(config.rateLimits.loginPerIpPerMinute, 60_000),
      loginPerUser: new RateLimiter(config.rateLimits.loginPerUserPer15Minutes, 15 * 60_000),
      signupPerIp: new RateLimiter(config.rateLimits.signupPerIpPerHour, 3_600_000),
    },
  });
  await keyRoutes(app, { accounts, tokens, directory: new KeyDirectory(store), bundleLimit: new RateLimiter(config.rateLimits.bundlesPerUserPerMinute, 60_000) });
  await iceRoutes(app, { tokens, settings: config.ice });
  app.get('/healthz', async () => ({ status: 'ok' }));
  await staticClient(app, config.clientDir);

  const queueService = new QueueService(store, bus, config.queue);
  const signaling = attachSignaling(app.server as unknown as Server, {
    tokens,
    users: store.users,
    bus,
    queue: store.queue,
    queueService,
    log: app.log,
    allowedOrigins: config.allowedOrigins,
    heartbeatMs: 30_000,
    limits: { authTimeoutMs: config.signalingAuthTimeoutMs, framesPerSecond: config.rateLimits.framesPerSecond, frameBurst: config.rateLimits.frameBurst, maxViolations: 50 },
  });

  const purgeAll = () => {
    void store.refreshTokens.purgeExpired(Date.now()).catch((e: unknown) => app.log.error({ err: e }, 'refresh token purge failed'));
    void queueService.purge().catch((e: unknown) => app.log.error({ err: e }, 'queue purge failed'));
  };
  purgeAll();
  const purge = setInterval(purgeAll, 3_600_000);
  purge.unref();

  const httpsServer = app.server as unknown as Server;
  const watcher = await watchCertificate(
    certFiles,
    config.tlsReloadIntervalMs,
    (loaded) => {
      httpsServer.setSecureContext({ cert: loaded.cert, key: loaded.key, minVersion: 'TLSv1.2' });
      app.log.info('TLS certificate reloaded');
    },
    (e) => app.log.warn({ err: e }, 'TLS certificate files changed but could not be loaded; keeping the current one'),
  );

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

  return {
    app,
    port,
    url: `https://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    store,
    reloadCertificate: () => watcher.check(),
    async close() {
      watcher.stop();
      clearInterval(purge);
      await signaling.close();
      await app.close();
      await bus.close();
      await store.close();
    },
  };
}
