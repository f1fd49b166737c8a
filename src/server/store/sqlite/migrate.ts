// Runs pending migrations at start, each in its own transaction, tracking progress in
// PRAGMA user_version so a crash mid-way leaves the database at the last complete version.
import type Database from 'better-sqlite3';
import type { Migration } from './migrations/index.ts';

export function migrate(db: Database.Database, migrations: readonly Migration[]): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) {
    throw new Error(`database schema version ${current} is newer than this Parley (${newest}); refusing to start`);
  }
  for (const m of migrations) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
