// Picks the store adapter from the configuration: PostgreSQL when DATABASE_URL is set, else the
// SQLite file in DATA_DIR. The only place that names both; everything else sees a Store.
import path from 'node:path';
import type { Config } from '../config.ts';
import { openPostgresStore } from './postgres/index.ts';
import { openSqliteStore } from './sqlite/index.ts';
import type { Store } from './types.ts';

export interface StoreLog {
  warn(details: object, message: string): void;
}

export async function openStore(config: Config, log: StoreLog): Promise<Store> {
  if (!config.database) return openSqliteStore(path.join(config.dataDir, 'parley.sqlite'));
  return openPostgresStore({
    url: config.database.url,
    poolSize: config.database.poolSize,
    schema: config.database.schema,
    // Only the message: a connection error object can carry the connection parameters.
    onError: (e) => log.warn({ reason: e.message }, 'PostgreSQL connection error; the pool reconnects'),
  });
}
