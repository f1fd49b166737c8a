// What a Parley process reports on /metrics (issue #5): connections, frames relayed, queue
// depth, login latency, and enough about the process to read them by. Counters count what this
// process did; the queue gauges read the shared store, so every process reports the whole
// deployment's queue (sum the counters across processes, not the queue gauges).
import { Counter, Gauge, Histogram, Registry } from './registry.ts';

export interface MetricSources {
  role: string;
  /** Authenticated signaling connections held by this process. */
  connections: () => number;
  /** Open WebSockets, authenticated or not. */
  sockets: () => number;
  queueDepth: () => Promise<{ envelopes: number; bytes: number }>;
}

export interface ServerMetrics {
  registry: Registry;
  framesRelayed: Counter;
  envelopesAccepted: Counter;
  loginSeconds: Histogram;
}

/** At most this long for the queue-depth query, so a slow database cannot hang a scrape. */
const DEPTH_TIMEOUT_MS = 2000;

export function createServerMetrics(sources: MetricSources): ServerMetrics {
  const registry = new Registry();
  let depth: Promise<{ envelopes: number; bytes: number }> | undefined;
  // Both queue gauges come from one query per scrape.
  const readDepth = () =>
    (depth ??= Promise.race([
      sources.queueDepth(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('queue depth timed out')), DEPTH_TIMEOUT_MS).unref()),
    ]).finally(() => setTimeout(() => (depth = undefined), 0)));

  registry.add(new Gauge('parley_info', 'Always 1; the labels say what this process serves.', () => 1, { role: sources.role }));
  registry.add(new Gauge('parley_signaling_connections', 'Authenticated signaling connections held by this process.', sources.connections));
  registry.add(new Gauge('parley_websocket_sockets', 'Open WebSockets on this process, including ones not yet authenticated.', sources.sockets));
  const framesRelayed = registry.add(new Counter('parley_signaling_frames_relayed_total', 'Signaling frames (offer, answer, ICE, ...) this process relayed to a connected user.'));
  const envelopesAccepted = registry.add(new Counter('parley_queue_envelopes_accepted_total', 'Envelopes this process accepted into the offline queue (retries included).'));
  registry.add(new Gauge('parley_queue_envelopes', 'Envelopes waiting in the offline queue, all recipients, whole deployment.', async () => (await readDepth()).envelopes));
  registry.add(new Gauge('parley_queue_bytes', 'Bytes waiting in the offline queue, all recipients, whole deployment.', async () => (await readDepth()).bytes));
  const loginSeconds = registry.add(
    new Histogram('parley_login_duration_seconds', 'Time to answer a log-in that passed the rate limits (bcrypt included), successful or not.', [
      0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]),
  );
  registry.add(new Gauge('process_resident_memory_bytes', 'Resident memory of this process.', () => process.memoryUsage.rss()));
  registry.add(new Gauge('nodejs_heap_used_bytes', 'V8 heap in use.', () => process.memoryUsage().heapUsed));
  registry.add(new Gauge('process_uptime_seconds', 'Seconds since this process started.', () => Math.round(process.uptime())));
  return { registry, framesRelayed, envelopesAccepted, loginSeconds };
}
