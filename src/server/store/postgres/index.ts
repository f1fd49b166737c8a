// The scale-out store: PostgreSQL, shared by every Parley process (DATABASE_URL). Opening it
// runs the migrations (safe when many processes start at once: see migrate.ts); each part of the
// Store lives in its own file with the concurrency argument that makes it correct.
import type { Store } from '../types.ts';
import { createPool } from './pool.ts';
import { migrate } from './migrate.ts';
import { postgresMigrations } from './migrations/index.ts';
import { postgresIdentities, postgresUsers } from './accounts.ts';
import { postgresPreKeys } from './prekeys.ts';
import { postgresRefreshTokens } from './refresh-tokens.ts';
import { postgresQueue } from './queue.ts';
import { postgresContacts } from './contacts.ts';
import { postgresDevices, postgresLinkRequests } from './devices.ts';

export interface PostgresStoreOptions {
  url: string;
  poolSize: number;
  schema?: string | undefined;
  /** Where errors of idle connections go (the pool reconnects by itself). */
  onError?: (error: Error) => void;
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const pool = createPool({ url: options.url, size: options.poolSize, schema: options.schema, onError: options.onError ?? (() => {}) });
  try {
    await migrate(pool, postgresMigrations, options.schema);
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
  return {
    users: postgresUsers(pool),
    identities: postgresIdentities(pool),
    preKeys: postgresPreKeys(pool),
    refreshTokens: postgresRefreshTokens(pool),
    queue: postgresQueue(pool),
    contacts: postgresContacts(pool),
    devices: postgresDevices(pool),
    linkRequests: postgresLinkRequests(pool),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      await pool.end();
    },
  };
}
