// The two Store adapters behind one test interface, so the same contract suite runs against
// both. Each open() is a fresh, empty database: a new SQLite file, or a new PostgreSQL schema
// (dropped again by dispose). another() is a second handle on the same database, as a second
// server process would hold, for the guarantees that must hold across processes.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openSqliteStore } from '../../src/server/store/sqlite/index.ts';
import { openPostgresStore } from '../../src/server/store/postgres/index.ts';
import type { Store } from '../../src/server/store/types.ts';

export interface OpenedStore {
  store: Store;
  another(): Promise<Store>;
  /** Closes every handle and removes the database. */
  dispose(): Promise<void>;
}

export interface StoreHarness {
  name: string;
  open(): Promise<OpenedStore>;
}

export const sqliteHarness: StoreHarness = {
  name: 'SQLite',
  async open() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-store-'));
    const file = path.join(dir, 'p.sqlite');
    const handles = [openSqliteStore(file)];
    return {
      store: handles[0]!,
      async another() {
        const s = openSqliteStore(file);
        handles.push(s);
        return s;
      },
      async dispose() {
        for (const h of handles) await h.close().catch(() => {});
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export const postgresSkipReason = process.env.DATABASE_URL
  ? undefined
  : 'DATABASE_URL is not set (CI sets it to postgres://postgres@127.0.0.1:5432/test)';

let schemas = 0;
/** A schema name no other run or test file uses. */
export function freshSchemaName(prefix = 'parley_test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${++schemas}`;
}

export async function dropSchema(url: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

export function postgresHarness(url: string): StoreHarness {
  return {
    name: 'PostgreSQL',
    async open() {
      const schema = freshSchemaName();
      const handles: Store[] = [];
      const openOne = async () => {
        const s = await openPostgresStore({ url, poolSize: 4, schema });
        handles.push(s);
        return s;
      };
      const store = await openOne();
      return {
        store,
        another: openOne,
        async dispose() {
          for (const h of handles) await h.close().catch(() => {});
          await dropSchema(url, schema);
        },
      };
    },
  };
}
