// Picks the bus adapter from the configuration: Redis when REDIS_URL is set, else in-process.
import type { Config } from '../config.ts';
import { createMemoryBus } from './memory.ts';
import { createRedisBus } from './redis.ts';
import type { Bus, BusLog } from './types.ts';

export async function openBus(config: Config, log: BusLog): Promise<Bus> {
  if (!config.redis) return createMemoryBus();
  return createRedisBus({ url: config.redis.url, prefix: config.redis.prefix, presenceTtlMs: config.redis.presenceTtlMs, log });
}
