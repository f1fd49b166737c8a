// Builds a whole Parley server from a Config: store, bus, token keys, HTTPS (or plain HTTP behind
// a proxy that terminates TLS: TLS_OFFLOAD), and the endpoints its role serves. A factory
// returning { url, close } so tests run it in-process on port 0 and main.ts runs it for real;
// nothing here reads process.env.
//
// Roles (issue #5): `all` serves everything (the default); `api` the HTTP API and the web
// client; `signaling` the WebSocket relay and offline queue. Health and metrics are on every
// role. One code path: the role only decides what is mounted.
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import type { Server } from 'node:https';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { JWK } from 'jose';
import { API_BODY_LIMIT } from '../wire/index.ts';
import type { Config } from './config.ts';
import { openStore } from './store/open-store.ts';
import type { QueueStore, Store } from './store/types.ts';
import { createPasswordHasher, type PasswordHasher } from './auth/password-hasher.ts';
import { createAccessTokens, liveAccessTokens, loadOrCreateSigningKeys, signingKeysFromJwks } from './auth/access-tokens.ts';
import { RefreshTokens } from './auth/refresh-tokens.ts';
import { AccountService } from './auth/account-service.ts';
import { openAttemptLimits } from './auth/open-limits.ts';
import type { AttemptLimits } from './auth/rate-limiter.ts';
import { openBus } from './bus/open-bus.ts';
import type { Bus } from './bus/types.ts';
import { installErrorHandler, sendError } from './http/errors.ts';
import { installSecurityHeaders } from './http/security-headers.ts';
import { installJsonParser } from './http/json-body.ts';
import { authRoutes } from './http/auth-routes.ts';
import { keyRoutes } from './http/key-routes.ts';
import { contactRoutes } from './http/contact-routes.ts';
import { Presence } from './contacts/presence.ts';
import { DeviceRouter } from './devices/device-router.ts';
import { DeviceService } from './devices/device-service.ts';
import { deviceRoutes } from './http/device-routes.ts';
import { healthRoutes } from './http/health-routes.ts';
import { iceRoutes } from './http/ice-routes.ts';
import { KeyDirectory } from './keys/key-directory.ts';
import { staticClient } from './http/static-client.ts';
import { attachSignaling } from './signaling/server.ts';
import { cachedUserLookup } from './signaling/user-lookup.ts';
import { cachedBlocks } from './contacts/block-cache.ts';
import { QueueService } from './queue/queue-service.ts';
import { createServerMetrics } from './metrics/server-metrics.ts';
import { ensureSelfSigned } from './tls/self-signed.ts';
import { loadCertificate, watchCertificate } from './tls/certificate-source.ts';
import { readStoredCertificate } from './tls/acme-files.ts';
import type { AcmeRenewalOptions, ChallengeResponses } from './tls/acme.ts';
import { TLS_OPTIONS } from './tls/tls-options.ts';
import { startHttpRedirect } from './http/http-redirect.ts';
import { arrivedOverHttps, PLAIN_HTTP_PATHS, PLAIN_HTTP_REFUSAL } from './http/proxied-https.ts';

/** Never logged, whatever a future log line attaches: credentials in headers and cookies. */
export const LOG_REDACT = ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'headers.authorization', 'headers.cookie'];

export interface ParleyServer {
  app: FastifyInstance;
  url: string;
  port: number;
  store: Store;
  /** Re-reads the certificate files now, or with ACME renews now if due (both also done on a timer). */
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
  /** Where the JSON log lines go instead of stdout (tests read them). */
  logStream?: { write(line: string): void };
  /** Replaces parts of the ACME renewal loop (tests: a failing CA, shorter retry delays). */
  acme?: Pick<AcmeRenewalOptions, 'issue' | 'retryMinMs' | 'retryMaxMs' | 'now'>;
  /** How often each WebSocket is pinged (default 30 s; tests use a short one). */
  heartbeatMs?: number;
}

export async function startServer(config: Config, overrides: ServerOverrides = {}): Promise<ParleyServer> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  // With ACME, a stored certificate from the CA is served from the first connection, even an
  // expired one while its successor is ordered; without one, the self-signed certificate serves
  // until the first order completes (seconds), so a CA outage never keeps the server down.
  // With TLS_OFFLOAD the proxy holds the certificate and none is made or loaded here.
  const acmeStored = config.acme ? await readStoredCertificate(config.dataDir, config.acme) : undefined;
  const certFiles = config.tlsOffload ? undefined : (config.tls ?? (await ensureSelfSigned(config.dataDir)));
  const certificate = acmeStored ?? (certFiles && (await loadCertificate(certFiles)));

  const loggerOptions = {
    level: config.logLevel,
    redact: LOG_REDACT,
    // Which process said it: several run side by side in a scaled-out deployment.
    base: { pid: process.pid, hostname: os.hostname(), role: config.role },
    ...(overrides.logStream ? { stream: overrides.logStream } : {}),
  };
  const app = Fastify({
    ...(certificate ? { https: { cert: certificate.cert, key: certificate.key, ...TLS_OPTIONS } } : {}),
    bodyLimit: API_BODY_LIMIT,
    // Only the configured balancers may say who the client is; anyone else could forge it.
    trustProxy: config.trustProxy.length ? config.trustProxy : false,
    logger: overrides.logger === undefined || overrides.logger === true ? loggerOptions : overrides.logger,
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
  });
  const serveApi = config.role !== 'signaling';
  const serveSignaling = config.role !== 'api';

  const baseStore = overrides.store ?? (await openStore(config, app.log));
  const store: Store = overrides.queue ? { ...baseStore, queue: overrides.queue, close: () => baseStore.close() } : baseStore;
  let bus: Bus;
  let limits: AttemptLimits;
  try {
    bus = overrides.bus ?? (await openBus(config, app.log));
    try {
      limits = await openAttemptLimits(config, app.log);
    } catch (e) {
      await bus.close();
      throw e;
    }
  } catch (e) {
    await store.close();
    throw e;
  }
  const limiter = (name: string, limit: number, windowMs: number) => limits.limiter(name, limit, windowMs);
  if (config.role !== 'all' && !config.redis) {
    // Legal (one API and one relay process can share a SQLite DATA_DIR), but a log-out on the
    // API process then cannot close the socket on the relay, and two relays cannot reach each other.
    app.log.warn({ role: config.role }, 'running a single role without REDIS_URL: this process cannot reach sockets held by other processes');
  }
  const signingKeys = config.tokenSigningKeys ? await signingKeysFromJwks(config.tokenSigningKeys as JWK[]) : await loadOrCreateSigningKeys(config.dataDir);
  const tokens = liveAccessTokens(createAccessTokens(signingKeys, config.accessTokenTtlSeconds), store.users);
  const refreshTokens = new RefreshTokens(store.refreshTokens, config.refreshTokenTtlSeconds * 1000);
  const hasher = overrides.hasher ?? createPasswordHasher({ algorithm: config.passwordHash, bcryptCost: config.bcryptCost });
  const accounts = new AccountService(store, hasher, tokens, refreshTokens);
  // The age limit guards against announcements that went missing; in one process none can, and
  // re-reading every busy user's block list twice a minute would be work for nothing.
  // A relay without Redis beside a separate API process hears no block made there: no cache.
  const deafToOthers = config.role !== 'all' && !config.redis;
  const blocks = cachedBlocks((owner) => store.contacts.blockedBy(owner), {
    hearsChanges: () => !deafToOthers && bus.hearsChanges,
    maxAgeMs: bus.mayMissChanges ? 60_000 : Infinity,
  });
  bus.onBlocksChanged((ownerId) => blocks.forget(ownerId));

  const findUser = cachedUserLookup(store.users);
  const router = new DeviceRouter(store.devices, bus);
  const queueService = new QueueService(store, bus, config.queue, { findUser, blocks }, (userId) => router.linked(userId));
  let sockets = () => 0;
  const metrics = createServerMetrics({
    role: config.role,
    connections: () => bus.localConnections,
    sockets: () => sockets(),
    queueDepth: () => store.queue.depth(),
  });

  installErrorHandler(app);
  installJsonParser(app);
  installSecurityHeaders(app);
  // First of all hooks: a refused request reaches no route, so it changes nothing.
  const viaHttps = config.tlsOffload ? arrivedOverHttps(config.trustProxy) : undefined;
  if (viaHttps) {
    app.addHook('onRequest', async (request, reply) => {
      const health = (request.method === 'GET' || request.method === 'HEAD') && PLAIN_HTTP_PATHS.has(request.url.split('?')[0]!);
      if (!health && !viaHttps(request.raw)) return sendError(reply, 'forbidden', PLAIN_HTTP_REFUSAL);
    });
  }
  const devices = new DeviceService({ store, bus, router });
  const presence = new Presence(store, router);
  await healthRoutes(app, { checks: { store: () => store.ping(), bus: () => bus.ping() }, registry: metrics.registry, metricsAccess: config.metrics });
  if (serveApi) {
    await authRoutes(app, {
      accounts,
      tokens,
      bus: router,
      limits: {
        loginPerIp: limiter('login-ip', config.rateLimits.loginPerIpPerMinute, 60_000),
        loginPerUser: limiter('login-user', config.rateLimits.loginPerUserPer15Minutes, 15 * 60_000),
        signupPerIp: limiter('signup-ip', config.rateLimits.signupPerIpPerHour, 3_600_000),
      },
      observeLogin: (seconds) => metrics.loginSeconds.observe(seconds),
    });
    await keyRoutes(app, { accounts, tokens, devices, directory: new KeyDirectory(store), bundleLimit: limiter('bundle-user', config.rateLimits.bundlesPerUserPerMinute, 60_000) });
    await contactRoutes(app, { store, bus, router, tokens, presence });
    await deviceRoutes(app, { store, tokens, devices });
    await iceRoutes(app, { tokens, settings: config.ice, limit: limiter('ice-user', config.rateLimits.icePerUserPerMinute, 60_000) });
  }
  // Without a client directory this only installs the JSON 404 for everything not mounted.
  await staticClient(app, serveApi ? config.clientDir : undefined);

  // A process without the relay has no 'upgrade' listener, so Node hands WebSocket upgrades to
  // the router as plain requests, and /ws gets the same JSON 404 as any unknown path.
  const signaling = serveSignaling
    ? attachSignaling(app.server as unknown as Server, {
        tokens,
        findUser,
        bus,
        router,
        devices,
        queue: store.queue,
        queueService,
        presence,
        blocks,
        log: app.log,
        allowedOrigins: config.allowedOrigins,
        ...(viaHttps ? { viaHttps } : {}),
        heartbeatMs: overrides.heartbeatMs ?? 30_000,
        limits: { authTimeoutMs: config.signalingAuthTimeoutMs, framesPerSecond: config.rateLimits.framesPerSecond, frameBurst: config.rateLimits.frameBurst, maxViolations: 50 },
        onRelay: () => metrics.framesRelayed.inc(),
        onEnvelope: () => metrics.envelopesAccepted.inc(),
      })
    : undefined;
  if (signaling) sockets = () => signaling.clients;

  // Each role purges what it owns; with many processes the purges overlap harmlessly.
  const purgeAll = () => {
    if (serveApi) void store.refreshTokens.purgeExpired(Date.now()).catch((e: unknown) => app.log.warn({ err: e }, 'refresh token purge failed'));
    if (serveApi) void devices.purge().catch((e: unknown) => app.log.warn({ err: e }, 'link request purge failed'));
    if (serveSignaling) void queueService.purge().catch((e: unknown) => app.log.warn({ err: e }, 'queue purge failed'));
  };
  purgeAll();
  const purge = setInterval(purgeAll, 3_600_000);
  purge.unref();

  const httpsServer = app.server as unknown as Server;
  const serveCertificate = (loaded: { cert: Buffer; key: Buffer }) => httpsServer.setSecureContext({ cert: loaded.cert, key: loaded.key, ...TLS_OPTIONS });
  // With ACME the renewal loop swaps certificates itself, and there are no files to watch.
  const watcher = config.acme || !certFiles
    ? undefined
    : await watchCertificate(
        certFiles,
        config.tlsReloadIntervalMs,
        (loaded) => {
          serveCertificate(loaded);
          app.log.info('TLS certificate reloaded');
        },
        (e) => app.log.warn({ err: e }, 'TLS certificate files changed but could not be loaded; keeping the current one'),
      );

  await app.listen({ host: config.host, port: config.port });
  const challenges: ChallengeResponses = new Map();
  const redirect = config.httpRedirectPort === undefined ? undefined : await startHttpRedirect(config.host, config.httpRedirectPort, app.server.address(), config.acme ? challenges : undefined);
  // Loaded only when ACME is configured: acme-client and its ASN.1 and X.509 libraries are
  // about 7.5 MB of heap that every process would otherwise carry and garbage-collect.
  const acme = config.acme
    ? (await import('./tls/acme.ts')).startAcmeRenewal({
        settings: config.acme,
        dataDir: config.dataDir,
        log: app.log,
        challenges,
        current: acmeStored,
        onCertificate: serveCertificate,
        ...overrides.acme,
      })
    : undefined;
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;

  return {
    app,
    port,
    url: `${config.tlsOffload ? 'http' : 'https'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`,
    store,
    reloadCertificate: () => (acme ? acme.check() : (watcher?.check() ?? Promise.resolve())),
    async close() {
      watcher?.stop();
      acme?.stop();
      await redirect?.close();
      clearInterval(purge);
      await signaling?.close();
      await app.close();
      await bus.close();
      await limits.close();
      await store.close();
    },
  };
}
