// The scale-out bus: many Parley processes share one Redis (REDIS_URL), so a frame for a user
// reaches whichever process holds that user's socket. No sticky sessions needed.
//
//  - Presence: `<prefix>presence:<userId>` = "<processId>/<connectionId>", with an expiry that
//    this process's heartbeat keeps pushing back. A process that dies (kill -9, power loss)
//    stops the heartbeat, so its users stop being online within PRESENCE_TTL_MS.
//  - Routing: each process subscribes to its own channel, `<prefix>proc:<processId>`. To reach
//    a user, one Lua script reads the presence key and publishes to the owner's channel in one
//    round trip. Redis answers how many subscribers got the message: none means the owner is
//    gone (its subscription died with it), so the stale key is removed on the spot and the user
//    is reported offline at once rather than after the expiry.
//  - Blocks: one channel for all, `<prefix>blocks`, carries the id of a user who blocked or
//    unblocked someone, so every process's block cache forgets that user's answers. While the
//    subscribed connection is down, changes can be missed: `hearsChanges` is false then (the
//    cache is bypassed) and, once the subscription is back, listeners are told to forget all.
//  - Replacement: attaching swaps the presence key and returns the old holder, which is told to
//    close exactly that connection (not a newer one of the same user it may have since).
//
// Knows nothing of WebSockets or frames: endpoints and opaque text, as in bus/memory.ts. Messages
// read from Redis are input like any other: checked, and ignored when malformed.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Bus, BusLog, Endpoint } from './types.ts';

export interface RedisBusOptions {
  url: string;
  /** Prefix of every key and channel, so deployments (or test runs) can share one Redis. */
  prefix: string;
  /** How long a presence key outlives its last heartbeat; heartbeats come three times as often. */
  presenceTtlMs: number;
  log: BusLog;
  /** How long a readiness ping may take before Redis counts as unreachable. */
  pingTimeoutMs?: number;
}

/** Claims a user's presence and returns the previous holder (or nil). */
const CLAIM = `
local old = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return old`;

/** Heartbeat: extends our own claim, re-makes it if it lapsed, and reports 0 if someone else holds it. */
const REFRESH = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
elseif not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

/** Drops our claim, and only ours: a newer connection elsewhere keeps its key. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Publishes ARGV[3] to the process holding the user. Returns the number of receivers, -1 when
 * nobody holds the user, -2 when the key names this very process (ARGV[2]). No receiver means
 * the holder's subscription is gone, so its key goes too. Should the holder only have lost its
 * subscribed connection for a moment, its heartbeat puts the key back (REFRESH).
 */
const ROUTE = `
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
local owner = string.match(v, '^([^/]+)/')
if not owner then return -1 end
if owner == ARGV[2] then return -2 end
local n = redis.call('PUBLISH', ARGV[1] .. owner, ARGV[3])
if n == 0 then redis.call('DEL', KEYS[1]) end
return n`;

type Routed =
  | { k: 'frame'; u: string; t: string }
  | { k: 'queue'; u: string }
  | { k: 'close'; u: string; code: number; reason: string }
  | { k: 'replaced'; u: string; c: string; code: number };

function parseRouted(text: string): Routed | undefined {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof m !== 'object' || m === null) return undefined;
  const r = m as Record<string, unknown>;
  if (typeof r.u !== 'string') return undefined;
  const code = (c: unknown) => typeof c === 'number' && Number.isInteger(c) && c >= 1000 && c <= 4999;
  switch (r.k) {
    case 'frame':
      return typeof r.t === 'string' ? { k: 'frame', u: r.u, t: r.t } : undefined;
    case 'queue':
      return { k: 'queue', u: r.u };
    case 'close':
      return code(r.code) && typeof r.reason === 'string' ? { k: 'close', u: r.u, code: r.code as number, reason: r.reason.slice(0, 120) } : undefined;
    case 'replaced':
      return code(r.code) && typeof r.c === 'string' ? { k: 'replaced', u: r.u, c: r.c, code: r.code as number } : undefined;
    default:
      return undefined;
  }
}

type Script = (key: string, ...args: Array<string | number>) => Promise<unknown>;
interface Scripts {
  parleyClaim: Script;
  parleyRefresh: Script;
  parleyRelease: Script;
  parleyRoute: Script;
}

const newId = () => randomBytes(12).toString('base64url');

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function createRedisBus(options: RedisBusOptions): Promise<Bus> {
  const { prefix, presenceTtlMs, log } = options;
  const processId = newId();
  const channelOf = (pid: string) => `${prefix}proc:${pid}`;
  const presenceKey = (userId: string) => `${prefix}presence:${userId}`;
  const local = new Map<string, { endpoint: Endpoint; connId: string; replacedCode: number }>();
  const blocksChannel = `${prefix}blocks`;
  const blockListeners: Array<(ownerId: string | undefined) => void> = [];
  const tellBlockListeners = (ownerId: string | undefined) => {
    for (const listener of blockListeners) listener(ownerId);
  };
  let hearing = false;

  // Two connections: a subscribed connection may not run ordinary commands. Without an offline
  // queue a command fails at once while Redis is away, instead of hanging a relay until it
  // returns; the callers below turn failures into "not delivered".
  const connectOptions = { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 } as const;
  const cmd = new Redis(options.url, connectOptions);
  const sub = new Redis(options.url, { ...connectOptions, enableOfflineQueue: true });
  let lastWarned = 0;
  let lastError: Error | undefined;
  const onError = (e: Error) => {
    lastError = e;
    // ioredis reports every failed reconnect; one line every few seconds says enough.
    if (Date.now() - lastWarned > 5000) {
      lastWarned = Date.now();
      log.warn({ reason: e.message }, 'Redis connection problem; retrying');
    }
  };
  cmd.on('error', onError);
  sub.on('error', onError);

  // ioredis runs these by EVALSHA and falls back to EVAL after a Redis restart emptied its
  // script cache, in pipelines too.
  cmd.defineCommand('parleyClaim', { numberOfKeys: 1, lua: CLAIM });
  cmd.defineCommand('parleyRefresh', { numberOfKeys: 1, lua: REFRESH });
  cmd.defineCommand('parleyRelease', { numberOfKeys: 1, lua: RELEASE });
  cmd.defineCommand('parleyRoute', { numberOfKeys: 1, lua: ROUTE });
  const scripts = cmd as unknown as Scripts;
  const valueOf = (connId: string) => `${processId}/${connId}`;
  const route = async (userId: string, message: Routed): Promise<number> =>
    Number(await scripts.parleyRoute(presenceKey(userId), `${prefix}proc:`, processId, JSON.stringify(message)));

  const onMessage = (channel: string, text: string) => {
    if (channel === blocksChannel) {
      if (text.length > 0 && text.length <= 128) tellBlockListeners(text);
      return;
    }
    const m = parseRouted(text);
    if (!m) return;
    const entry = local.get(m.u);
    if (!entry) return; // gone between routing and arrival: the sender's frame is lost, as on a closing socket
    switch (m.k) {
      case 'frame':
        return entry.endpoint.send(m.t);
      case 'queue':
        return entry.endpoint.onQueue();
      case 'close':
        return entry.endpoint.close(m.code, m.reason);
      case 'replaced':
        if (entry.connId !== m.c) return;
        local.delete(m.u);
        return entry.endpoint.close(m.code, 'signed in elsewhere');
    }
  };

  try {
    await Promise.all([cmd.connect(), sub.connect()]);
    sub.on('message', onMessage);
    await sub.subscribe(channelOf(processId), blocksChannel);
    hearing = true;
  } catch (e) {
    cmd.disconnect();
    sub.disconnect();
    // ioredis reports "Connection is closed" here; the reason is the error it emitted before.
    throw new Error(`cannot reach Redis: ${(lastError ?? (e as Error)).message}`, { cause: e });
  }

  const deaf = () => {
    if (!hearing) return;
    hearing = false;
    tellBlockListeners(undefined);
  };
  sub.on('close', deaf);
  sub.on('reconnecting', deaf);
  sub.on('end', deaf);
  sub.on('ready', () => {
    if (hearing) return;
    // ioredis re-subscribes on its own before 'ready'; Redis answers in order, so once this
    // SUBSCRIBE is answered every channel is live again, and nothing said from now on is missed.
    sub.subscribe(channelOf(processId), blocksChannel).then(
      () => {
        hearing = true;
        tellBlockListeners(undefined);
      },
      (e: Error) => onError(e),
    );
  });

  const heartbeat = setInterval(() => {
    if (local.size === 0 || cmd.status !== 'ready') return;
    const entries = [...local];
    const pipeline = cmd.pipeline();
    for (const [userId, { connId }] of entries) (pipeline as unknown as Scripts).parleyRefresh(presenceKey(userId), valueOf(connId), presenceTtlMs);
    pipeline.exec().then(
      (results) => {
        results?.forEach(([err, held], i) => {
          if (err || held !== 0) return;
          // Another process holds this user now and its message to close ours was lost (Redis
          // was away). One device per account: this connection gives way.
          const [userId, entry] = entries[i]!;
          if (local.get(userId) !== entry) return;
          local.delete(userId);
          entry.endpoint.close(entry.replacedCode, 'signed in elsewhere');
        });
      },
      (e: Error) => onError(e),
    );
  }, Math.max(250, Math.floor(presenceTtlMs / 3)));
  heartbeat.unref();

  let closed = false;
  const deliverHere = (userId: string, frameText: string): boolean => {
    const entry = local.get(userId);
    if (!entry) return false;
    entry.endpoint.send(frameText);
    return true;
  };

  return {
    async attach(userId, endpoint, replacedCode) {
      const connId = newId();
      const entry = { endpoint, connId, replacedCode };
      const previous = local.get(userId);
      local.set(userId, entry);
      if (previous && previous.endpoint !== endpoint) previous.endpoint.close(replacedCode, 'signed in elsewhere');
      try {
        const old = (await scripts.parleyClaim(presenceKey(userId), valueOf(connId), presenceTtlMs)) as string | null;
        const [oldPid, oldConn] = old ? old.split('/') : [];
        if (oldPid && oldConn && oldPid !== processId) {
          await cmd.publish(channelOf(oldPid), JSON.stringify({ k: 'replaced', u: userId, c: oldConn, code: replacedCode } satisfies Routed));
        }
      } catch (e) {
        // The heartbeat claims the key once Redis is back; until then only this process can reach the user.
        log.warn({ reason: (e as Error).message }, 'could not record presence in Redis');
      }
    },
    detach(userId, endpoint) {
      const entry = local.get(userId);
      if (!entry || entry.endpoint !== endpoint) return;
      local.delete(userId);
      if (closed) return;
      scripts.parleyRelease(presenceKey(userId), valueOf(entry.connId)).catch((e: Error) => onError(e));
    },
    deliverHere,
    async deliver(userId, frameText) {
      if (deliverHere(userId, frameText)) return true;
      try {
        return (await route(userId, { k: 'frame', u: userId, t: frameText })) > 0;
      } catch (e) {
        onError(e as Error);
        return false;
      }
    },
    async notifyQueue(userId) {
      const entry = local.get(userId);
      if (entry) return entry.endpoint.onQueue();
      // Not delivered now means delivered at the user's next connection: the envelope is stored.
      await route(userId, { k: 'queue', u: userId }).catch((e: Error) => onError(e));
    },
    async blocksChanged(ownerId) {
      // Published even when this process is deaf: the others may hear it. Our own listeners are
      // told directly, so this process is never late about a change it made itself.
      tellBlockListeners(ownerId);
      await cmd.publish(blocksChannel, ownerId);
    },
    onBlocksChanged(listener) {
      blockListeners.push(listener);
    },
    mayMissChanges: true,
    get hearsChanges() {
      return hearing;
    },
    async disconnect(userId, code, reason) {
      local.get(userId)?.endpoint.close(code, reason);
      await route(userId, { k: 'close', u: userId, code, reason }).catch((e: Error) => onError(e));
    },
    async isOnline(userId) {
      if (local.has(userId)) return true;
      const value = await cmd.get(presenceKey(userId));
      const owner = value?.split('/')[0];
      if (!owner || owner === processId) return false;
      const counts = (await cmd.pubsub('NUMSUB', channelOf(owner))) as Array<string | number>;
      return Number(counts[1] ?? 0) > 0;
    },
    get localConnections() {
      return local.size;
    },
    async ping() {
      if (cmd.status !== 'ready' || sub.status !== 'ready') throw new Error(`Redis connection is ${cmd.status === 'ready' ? sub.status : cmd.status}`);
      await withTimeout(cmd.ping(), options.pingTimeoutMs ?? 2000, 'Redis ping');
    },
    async close() {
      if (closed) return;
      closed = true;
      hearing = false;
      clearInterval(heartbeat);
      // A graceful stop hands its users' presence back at once instead of after the expiry.
      const entries = [...local];
      local.clear();
      if (entries.length && cmd.status === 'ready') {
        const pipeline = cmd.pipeline();
        for (const [userId, { connId }] of entries) (pipeline as unknown as Scripts).parleyRelease(presenceKey(userId), valueOf(connId));
        await pipeline.exec().catch((e: Error) => onError(e));
      }
      await Promise.all([sub.quit().catch(() => sub.disconnect()), cmd.quit().catch(() => cmd.disconnect())]);
    },
  };
}
