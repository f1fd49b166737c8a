// The SQLite store: migrations at start, and the guarantees the services rely on.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/server/store/sqlite/index.ts';
import { sqliteMigrations } from '../../src/server/store/sqlite/migrations/index.ts';
import { migrate } from '../../src/server/store/sqlite/migrate.ts';

const tmpFile = () => path.join(mkdtempSync(path.join(os.tmpdir(), 'parley-store-')), 'p.sqlite');
const identity = { signingKey: new Uint8Array(65).fill(4), dhKey: new Uint8Array(65).fill(5), dhKeySignature: new Uint8Array(64).fill(6), updatedAt: 1 };

describe('SQLite store', () => {
  it('migrates an empty file to the newest schema, in WAL mode', async () => {
    const file = tmpFile();
    const store = openSqliteStore(file);
    await store.close();
    const db = new Database(file, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(sqliteMigrations.at(-1)!.version);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(['contacts', 'identity_keys', 'one_time_prekeys', 'queue', 'queue_usage', 'refresh_tokens', 'signed_prekeys', 'sqlite_sequence', 'users']);
    db.close();
  });

  it('migration 2 (prekeys) keeps every account of a version-1 database', async () => {
    const file = tmpFile();
    const db = new Database(file);
    migrate(db, sqliteMigrations.filter((m) => m.version === 1));
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

  it('refuses to open a database from a newer Parley', () => {
    const file = tmpFile();
    const db = new Database(file);
    db.pragma('user_version = 999');
    db.close();
    expect(() => openSqliteStore(file)).toThrow(/newer than this Parley/);
  });

  it('keeps data across reopen, and a duplicate username changes nothing', async () => {
    const file = tmpFile();
    let store = openSqliteStore(file);
    expect(await store.users.create({ id: 'u1', username: 'alice', passwordHash: 'h', createdAt: 1 }, identity)).toBe('ok');
    expect(await store.users.create({ id: 'u2', username: 'alice', passwordHash: 'h2', createdAt: 2 }, identity)).toBe('taken');
    await store.close();
    store = openSqliteStore(file);
    expect(await store.users.findByUsername('alice')).toMatchObject({ id: 'u1', passwordHash: 'h' });
    expect(await store.users.findById('u2')).toBeUndefined();
    expect(await store.identities.get('u2')).toBeUndefined();
    expect((await store.identities.get('u1'))?.dhKey).toEqual(identity.dhKey);
    await store.close();
  });

  it('spends a refresh token once, reports reuse, and expires it', async () => {
    const store = openSqliteStore(tmpFile());
    await store.users.create({ id: 'u1', username: 'alice', passwordHash: 'h', createdAt: 1 }, identity);
    await store.refreshTokens.insert({ tokenHash: 't1', userId: 'u1', familyId: 'f', expiresAt: 1000, createdAt: 0 });
    expect((await store.refreshTokens.consume('t1', 10)).status).toBe('ok');
    expect((await store.refreshTokens.consume('t1', 11)).status).toBe('reused');
    await store.refreshTokens.insert({ tokenHash: 't2', userId: 'u1', familyId: 'g', expiresAt: 1000, createdAt: 0 });
    expect((await store.refreshTokens.consume('t2', 1000)).status).toBe('unknown');
    expect(await store.refreshTokens.purgeExpired(1000)).toBe(2);
    await store.close();
  });
});
