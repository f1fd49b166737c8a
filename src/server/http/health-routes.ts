// Liveness, readiness and metrics, on every role. /healthz answers while the process can answer
// at all (a load balancer or orchestrator restarts it otherwise); /healthz/ready answers 503
// while the store or the bus cannot be reached, so traffic goes to processes that can serve it.
// Why a check failed goes to the log, not to the response: the error text may name hosts.
import type { FastifyInstance } from 'fastify';
import { PROMETHEUS_CONTENT_TYPE, type Registry } from '../metrics/registry.ts';
import { FORWARDING_HEADERS, metricsGate, type MetricsAccess } from '../metrics/metrics-access.ts';
import { sendError } from './errors.ts';

export interface HealthDeps {
  /** Named checks that must all resolve for the process to be ready, e.g. store and bus pings. */
  checks: Record<string, () => Promise<void>>;
  registry: Registry;
  /** Who may read /metrics (METRICS_TOKEN, METRICS_ALLOW); loopback only when unset. */
  metricsAccess: MetricsAccess;
  timeoutMs?: number;
}

async function probe(check: () => Promise<void>, timeoutMs: number): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  } finally {
    clearTimeout(timer);
  }
}

export async function healthRoutes(app: FastifyInstance, deps: HealthDeps): Promise<void> {
  const timeoutMs = deps.timeoutMs ?? 2000;

  app.get('/healthz', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return { status: 'ok' };
  });

  app.get('/healthz/ready', async (request, reply) => {
    const names = Object.keys(deps.checks);
    const results = await Promise.all(names.map((n) => probe(deps.checks[n]!, timeoutMs)));
    const checks: Record<string, 'ok' | 'unreachable'> = {};
    names.forEach((n, i) => {
      const error = results[i];
      checks[n] = error ? 'unreachable' : 'ok';
      if (error) request.log.warn({ check: n, reason: error.message }, 'readiness check failed');
    });
    const ready = results.every((r) => r === undefined);
    reply.code(ready ? 200 : 503).header('cache-control', 'no-store');
    return { status: ready ? 'ready' : 'unavailable', checks };
  });

  const gate = metricsGate(deps.metricsAccess);
  app.get('/metrics', async (request, reply) => {
    const forwarded = FORWARDING_HEADERS.some((h) => request.headers[h] !== undefined);
    const verdict = gate(request.ip, request.headers.authorization, forwarded);
    if (verdict === 'hidden') return sendError(reply, 'not_found', 'Not found.');
    if (verdict === 'not-allowed') return sendError(reply, 'forbidden', 'Not allowed from this address.');
    if (verdict === 'no-token') return sendError(reply.header('www-authenticate', 'Bearer'), 'unauthorized', 'A bearer token is needed.');
    reply.type(PROMETHEUS_CONTENT_TYPE).header('cache-control', 'no-store');
    return deps.registry.expose();
  });
}
