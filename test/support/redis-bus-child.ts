// A process holding one user on the Redis bus, and nothing else, so a test can kill it with
// SIGKILL and watch what the other processes see. Configured by environment variables.
import { createRedisBus } from '../../src/server/bus/redis.ts';

const bus = await createRedisBus({
  url: process.env.REDIS_URL!,
  prefix: process.env.BUS_PREFIX!,
  presenceTtlMs: Number(process.env.BUS_TTL_MS),
  log: { warn() {} },
});
await bus.attach(process.env.BUS_USER!, { send() {}, close() {}, onQueue() {} }, 4000);
process.stdout.write('attached\n');
setInterval(() => {}, 1 << 30);
