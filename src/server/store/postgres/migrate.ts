// Runs pending migrations at start. Every process of a deployment does this at once when they
// are started together, so the runner first takes a session-level advisory lock: one process
// migrates while the others wait, then they find nothing left to do. Each migration runs in its
// own transaction together with the row that records it in schema_migrations, so a crash
// mid-way leaves the database at the last complete version, as SQLite's user_version does.
import type pg from 'pg';
import type { Migration } from './migrations/index.ts';
import { checkOut } from './pool.ts';

/** The lock is keyed by schema: deployments in separate schemas of one database do not wait on each other. */
const LOCK_KEY = "hashtext('parley-migrate:' || $1)";

export async function migrate(pool: pg.Pool, migrations: readonly Migration[], schema: string | undefined): Promise<number> {
  const { client, release } = await checkOut(pool);
  let broken: Error | undefined;
  const lockName = schema ?? 'search_path';
  try {
    await client.query(`SELECT pg_advisory_lock(${LOCK_KEY})`, [lockName]);
    try {
      // The schema name was checked to be a plain identifier (config.ts); quoted all the same.
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version     INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        applied_at  TIMESTAMPTZ NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      const current = rows[0]?.v ?? 0;
      const newest = migrations.at(-1)?.version ?? 0;
      if (current > newest) {
        throw new Error(`database schema version ${current} is newer than this Parley (${newest}); refusing to start`);
      }
      for (const m of migrations) {
        if (m.version <= current) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
          throw new Error(`migration ${m.version} (${m.name}) failed: ${(e as Error).message}`, { cause: e });
        }
      }
      const after = await client.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
      return after.rows[0]?.v ?? 0;
    } finally {
      await client.query(`SELECT pg_advisory_unlock(${LOCK_KEY})`, [lockName]).catch((e: Error) => (broken = e));
    }
  } finally {
    // A connection whose unlock failed may still hold the lock: close it rather than reuse it.
    release(broken);
  }
}
