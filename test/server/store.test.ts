// The Store, against both adapters: one contract suite (test/support/store-contract.ts) run for
// SQLite and for PostgreSQL, then each adapter's migrations. The PostgreSQL half needs
// DATABASE_URL; without it, it is skipped and says why. Each PostgreSQL test works in a schema of
// its own, dropped afterwards, so runs never see each other's rows.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/server/store/sqlite/index.ts';
import { sqliteMigrations } from '../../src/server/store/sqlite/migrations/index.ts';
import { migrate as migrateSqlite } from '../../src/server/store/sqlite/migrate.ts';
import { openPostgresStore } from '../../src/server/store/postgres/index.ts';
import { postgresMigrations } from '../../src/server/store/postgres/migrations/index.ts';
import { migrate as migratePostgres } from '../../src/server/store/postgres/migrate.ts';
import { createPool } from '../../src/server/store/postgres/pool.ts';
import { storeContract } from '../support/store-contract.ts';
import type { Store } from '../../src/server/store/types.ts';
import { hostAndPort, startTcpProxy, viaProxy } from '../support/tcp-proxy.ts';
import { dropSchema, freshSchemaName, postgresHarness, postgresSkipReason, sqliteHarness } from '../support/store-harness.ts';

const DATABASE_URL = process.env.DATABASE_URL ?? '';
if (postgresSkipReason) console.log(`[store] PostgreSQL store tests SKIPPED: ${postgresSkipReason}`);

const tmpDirs: string[] = [];
const tmpFile = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-store-'));
  tmpDirs.push(dir);
  return path.join(dir, 'p.sqlite');
};
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

storeContract(sqliteHarness);

describe.skipIf(Boolean(postgresSkipReason))(`PostgreSQL store contract (needs DATABASE_URL)`, () => {
  storeContract(postgresHarness(DATABASE_URL));
});

/** A v1 Parley's data (schema version 5): alice with keys and prekeys, one envelope queued for her. */
function seedVersion5(run: (sql: string, ...params: unknown[]) => void): void {
  run('INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)', 'u1', 'alice', 'hash', 1);
  run('INSERT INTO users (id, username, password_hash, created_at) VALUES (?, ?, ?, ?)', 'u2', 'bob', 'hash', 1);
  run('INSERT INTO identity_keys VALUES (?, ?, ?, ?, ?)', 'u1', Buffer.alloc(65, 4), Buffer.alloc(65, 5), Buffer.alloc(64, 6), 1);
  run('INSERT INTO signed_prekeys VALUES (?, ?, ?, ?, ?, ?, ?, ?)', 'u1', 7, Buffer.alloc(65, 1), Buffer.alloc(64, 2), 8, Buffer.alloc(1184, 3), Buffer.alloc(64, 4), 1);
  run('INSERT INTO one_time_prekeys VALUES (?, ?, ?)', 'u1', 9, Buffer.alloc(65, 9));
  run('INSERT INTO queue (recipient_id, sender_id, sender_name, client_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)', 'u1', 'u2', 'bob', 'client-id-00000001', Buffer.alloc(10, 1), 5);
}

/** SQLite's `?` placeholders as PostgreSQL's `$1, $2, …`. */
function numberedParameters(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

async function expectDevice1(store: Store): Promise<void> {
  try {
    expect((await store.identities.get('u1', '1'))?.dhKey).toEqual(new Uint8Array(65).fill(5));
    expect((await store.preKeys.getSigned('u1', '1'))?.signedPreKey.id).toBe(7);
    expect(await store.preKeys.countOneTime('u1', '1')).toBe(1);
    const queued = await store.queue.pending('u1', 0, 10, 0, '1');
    expect(queued.map((e) => [e.clientId, e.recipientDevice])).toEqual([['client-id-00000001', '1']]);
    // The usage row the v1 queue kept is still the device's: acknowledging empties it.
    expect(await store.queue.ack('u1', [queued[0]!.qid], '1')).toBe(1);
    expect(await store.queue.depth()).toEqual({ envelopes: 0, bytes: 0 });
    expect((await store.devices.list('u1')).map((d) => [d.deviceId, d.unlinkedAt])).toEqual([['1', null]]);
    expect(await store.devices.chain('u1')).toEqual([]);
  } finally {
    await store.close();
  }
}

describe('SQLite migrations', () => {
  it('migrates an empty file to the newest schema, in WAL mode', async () => {
    const file = tmpFile();
    const store = openSqliteStore(file);
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(sqliteMigrations.at(-1)!.version);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(['contacts', 'device_lists', 'devices', 'identity_keys', 'link_requests', 'one_time_prekeys', 'queue', 'queue_usage', 'refresh_tokens', 'signed_prekeys', 'sqlite_sequence', 'users']);
    db.close();
  });

  it('migration 2 (prekeys) keeps every account of a version-1 database', async () => {
    const file = tmpFile();
    const db = new Database(file);
    migrateSqlite(db, sqliteMigrations.filter((m) => m.version === 1));
    db.prepare('INSERT INTO users VALUES (?, ?, ?, ?)').run('u1', 'alice', 'hash', 1);
    db.prepare('INSERT INTO identity_keys VALUES (?, ?, ?, ?, ?)').run('u1', Buffer.alloc(65, 4), Buffer.alloc(65, 5), Buffer.alloc(64, 6), 1);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    db.close();
    const store = openSqliteStore(file);
    expect(await store.users.findByUsername('alice')).toMatchObject({ id: 'u1' });
    expect((await store.identities.get('u1'))?.dhKey).toEqual(new Uint8Array(65).fill(5));
    expect(await store.preKeys.countOneTime('u1')).toBe(0);
    await store.close();
  });

  it('migration 6 (devices) makes every v1 key, prekey and queued envelope device 1\'s', async () => {
    const file = tmpFile();
    const db = new Database(file);
    migrateSqlite(db, sqliteMigrations.filter((m) => m.version <= 5));
    seedVersion5((sql, ...params) => db.prepare(sql).run(...params));
    db.close();
    await expectDevice1(openSqliteStore(file));
  });

  it('refuses to open a database from a newer Parley', () => {
    const file = tmpFile();
    const db = new Database(file);
    db.pragma('user_version = 999');
    db.close();
    expect(() => openSqliteStore(file)).toThrow(/newer than this Parley/);
  });
});

describe.skipIf(Boolean(postgresSkipReason))('PostgreSQL migrations (needs DATABASE_URL)', () => {
  const schemas: string[] = [];
  const schema = () => {
    const s = freshSchemaName('parley_migrate');
    schemas.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of schemas) await dropSchema(DATABASE_URL, s);
  });
  const sql = async (s: string, text: string, values: unknown[] = []) => {
    const client = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${s}` });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  };

  it('migrates an empty schema to the newest version, recording each migration once', async () => {
    const s = schema();
    const store = await openPostgresStore({ url: DATABASE_URL, poolSize: 2, schema: s });
    await store.close();
    expect(postgresMigrations.map((m) => m.version)).toEqual(sqliteMigrations.map((m) => m.version));
    const versions = await sql(s, 'SELECT version, name FROM schema_migrations ORDER BY version');
    expect(versions).toEqual(postgresMigrations.map((m) => ({ version: m.version, name: m.name })));
    const tables = await sql(s, 'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [s]);
    expect(tables.map((t) => t.table_name)).toEqual(['contacts', 'device_lists', 'devices', 'identity_keys', 'link_requests', 'one_time_prekeys', 'queue', 'queue_usage', 'refresh_tokens', 'schema_migrations', 'signed_prekeys', 'users']);
  });

  it('lets six processes start at once on an empty schema: one migrates, all open', async () => {
    const s = schema();
    const stores = await Promise.all(Array.from({ length: 6 }, () => openPostgresStore({ url: DATABASE_URL, poolSize: 1, schema: s })));
    expect(await stores[0]!.users.create({ id: 'u1', username: 'alice', passwordHash: 'h', createdAt: 1 }, { signingKey: new Uint8Array(65), dhKey: new Uint8Array(65), dhKeySignature: new Uint8Array(64), updatedAt: 1 })).toBe('ok');
    expect(await stores[5]!.users.findByUsername('alice')).toMatchObject({ id: 'u1' });
    for (const st of stores) await st.close();
    expect(await sql(s, 'SELECT COUNT(*)::int AS n FROM schema_migrations')).toEqual([{ n: postgresMigrations.length }]);
  });

  it('migration 2 (prekeys) keeps every account of a version-1 database', async () => {
    const s = schema();
    const pool = createPool({ url: DATABASE_URL, size: 1, schema: s, onError: () => {} });
    try {
      expect(await migratePostgres(pool, postgresMigrations.filter((m) => m.version === 1), s)).toBe(1);
      await pool.query('INSERT INTO users VALUES ($1, $2, $3, $4)', ['u1', 'alice', 'hash', 1]);
      await pool.query('INSERT INTO identity_keys VALUES ($1, $2, $3, $4, $5)', ['u1', Buffer.alloc(65, 4), Buffer.alloc(65, 5), Buffer.alloc(64, 6), 1]);
    } finally {
      await pool.end();
    }
    const store = await openPostgresStore({ url: DATABASE_URL, poolSize: 2, schema: s });
    expect(await store.users.findByUsername('alice')).toMatchObject({ id: 'u1' });
    expect((await store.identities.get('u1'))?.dhKey).toEqual(new Uint8Array(65).fill(5));
    expect(await store.preKeys.countOneTime('u1')).toBe(0);
    await store.close();
  });

  it('migration 6 (devices) makes every v1 key, prekey and queued envelope device 1\'s', async () => {
    const s = schema();
    const pool = createPool({ url: DATABASE_URL, size: 1, schema: s, onError: () => {} });
    try {
      expect(await migratePostgres(pool, postgresMigrations.filter((m) => m.version <= 5), s)).toBe(5);
      const statements: [string, unknown[]][] = [];
      seedVersion5((sql, ...params) => void statements.push([numberedParameters(sql), params]));
      for (const [sql, params] of statements) await pool.query(sql, params);
    } finally {
      await pool.end();
    }
    await expectDevice1(await openPostgresStore({ url: DATABASE_URL, poolSize: 2, schema: s }));
  });

  it('rolls a failing migration back whole and leaves the version where it was', async () => {
    const s = schema();
    const pool = createPool({ url: DATABASE_URL, size: 1, schema: s, onError: () => {} });
    try {
      const broken = [...postgresMigrations.slice(0, 1), { version: 2, name: 'broken', sql: 'CREATE TABLE half_done (x INT); SELECT no_such_function();' }];
      await expect(migratePostgres(pool, broken, s)).rejects.toThrow(/migration 2 \(broken\) failed/);
      expect((await pool.query('SELECT MAX(version) AS v FROM schema_migrations')).rows[0].v).toBe(1);
      expect((await pool.query("SELECT to_regclass('half_done') AS t")).rows[0].t).toBeNull();
    } finally {
      await pool.end();
    }
  });

  it('refuses to open a database from a newer Parley', async () => {
    const s = schema();
    await (await openPostgresStore({ url: DATABASE_URL, poolSize: 1, schema: s })).close();
    await sql(s, "INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')");
    await expect(openPostgresStore({ url: DATABASE_URL, poolSize: 1, schema: s })).rejects.toThrow(/newer than this Parley/);
  });
});

describe.skipIf(Boolean(postgresSkipReason))('PostgreSQL connections (needs DATABASE_URL)', () => {
  const schemas: string[] = [];
  afterAll(async () => {
    for (const s of schemas) await dropSchema(DATABASE_URL, s);
  });

  it('survives the database connection dying in the middle of a transaction: that call fails, the process does not', async () => {
    const s = freshSchemaName('parley_conn');
    schemas.push(s);
    const target = hostAndPort(DATABASE_URL, 5432);
    const proxy = await startTcpProxy(target.host, target.port);
    const store = await openPostgresStore({ url: viaProxy(DATABASE_URL, proxy), poolSize: 2, schema: s });
    const blocker = new pg.Client({ connectionString: DATABASE_URL, options: `-c search_path=${s}` });
    await blocker.connect();
    try {
      const identity = { signingKey: new Uint8Array(65), dhKey: new Uint8Array(65), dhKeySignature: new Uint8Array(64), updatedAt: 1 };
      for (const id of ['bob', 'alice']) await store.users.create({ id, username: id, passwordHash: 'h', createdAt: 1 }, identity);
      const envelope = (clientId: string) => ({ recipientId: 'bob', recipientDevice: '1', senderId: 'alice', senderDevice: '1', senderName: 'alice', clientId, body: new Uint8Array(4), createdAt: 1 });
      const limits = { maxCount: 10, maxBytes: 1000, maxAgeMs: 1000 };
      expect((await store.queue.enqueue(envelope('first-envelope-id'), limits)).status).toBe('stored');
      // Hold bob's usage row, so the next enqueue waits inside its transaction.
      await blocker.query('BEGIN');
      await blocker.query("SELECT 1 FROM queue_usage WHERE recipient_id = 'bob' FOR UPDATE");
      const stuck = store.queue.enqueue(envelope('second-envelope-id'), limits);
      await new Promise((r) => setTimeout(r, 200));
      await proxy.cut();
      await expect(stuck).rejects.toThrow();
      await blocker.query('ROLLBACK');
      await proxy.restore();
      expect((await store.queue.enqueue(envelope('second-envelope-id'), limits)).status).toBe('stored');
      expect(await store.queue.depth()).toEqual({ envelopes: 2, bytes: 8 });
    } finally {
      await blocker.end();
      await store.close();
      await proxy.close();
    }
  });
});
