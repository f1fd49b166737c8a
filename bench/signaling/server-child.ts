// One relay under test, in a child process of its own: Parley (started from its configuration
// in the environment, as `npm start` would), the bare `ws` relay, or the PeerJS server. Answers
// the benchmark's requests for its port and its memory after a full garbage collection.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { PeerServer } from 'peer';
import { loadConfig } from '../../src/server/config.ts';
import { startServer } from '../../src/server/app.ts';
import { TLS_OPTIONS } from '../../src/server/tls/tls-options.ts';
import { startBareRelay } from './bare-relay.ts';
import { serveRequests } from './children.ts';

const kind = process.env.BENCH_TARGET;
// BENCH_PLAIN=1: plain HTTP, as behind a proxy that terminates TLS (Parley: TLS_OFFLOAD=1).
const tls = process.env.BENCH_PLAIN === '1' ? undefined : { cert: readFileSync(process.env.TLS_CERT!), key: readFileSync(process.env.TLS_KEY!) };

async function start(): Promise<number> {
  if (kind === 'parley') {
    const server = await startServer(loadConfig(process.env, process.cwd(), []), { logger: false });
    return server.port;
  }
  if (kind === 'bare') return (await startBareRelay(tls && { ...tls, ...TLS_OPTIONS })).port;
  if (kind === 'peerjs') {
    return new Promise<number>((resolve) => {
      PeerServer(
        // Its defaults, except the connection cap (5,000) that would refuse the load itself.
        { host: '127.0.0.1', port: 0, path: '/', key: 'peerjs', concurrent_limit: 1_000_000, ...(tls ? { ssl: { cert: tls.cert.toString(), key: tls.key.toString() } } : {}) },
        (server) => resolve((server.address() as AddressInfo).port),
      );
    });
  }
  throw new Error(`unknown BENCH_TARGET ${kind}`);
}

const gc = (globalThis as { gc?: () => void }).gc;
// How late the relay's event loop runs: the direct measure of a stall, on the relay's own clock.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
process.on('SIGTERM', () => process.exit(0));
serveRequests({
  cpu: () => process.cpuUsage(),
  loopDelay: (m: { reset?: boolean }) => {
    const result = { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    if (m.reset) loopDelay.reset();
    return result;
  },
  start: async () => ({ port: await start() }),
  memory: async () => {
    // Twice, with a pause: the first pass finds what the second frees (weak maps, finalisers).
    gc?.();
    await new Promise((r) => setTimeout(r, 200));
    gc?.();
    // While investigating memory: BENCH_HEAP_SNAPSHOT=dir writes a snapshot at each measurement.
    if (process.env.BENCH_HEAP_SNAPSHOT) writeHeapSnapshot(`${process.env.BENCH_HEAP_SNAPSHOT}/${kind}-${process.pid}-${Date.now()}.heapsnapshot`);
    const m = process.memoryUsage();
    return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
  },
});
