// The PostgreSQL connection pool and the one way this adapter runs a transaction. BIGINT
// columns (times in ms, qids, prekey ids) come back as numbers: every value stored is below
// 2^53, and the Store interface speaks numbers. Only this pool is configured so, never pg's
// global parsers, which other code in the process might rely on.
import pg from 'pg';

const INT8_OID = 20;

export interface PoolOptions {
  url: string;
  /** Connections this process may hold; the database's max_connections is shared by all processes. */
  size: number;
  /** A schema to live in (created by the migration runner); undefined uses the server's search_path. */
  schema: string | undefined;
  /** Errors on idle connections (the server restarted, the network dropped): reported, never thrown. */
  onError: (error: Error) => void;
}

export function createPool(options: PoolOptions): pg.Pool {
  const defaultParser = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: string) => unknown;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.size,
    // Readiness checks and requests fail fast while the database is unreachable, instead of
    // queueing behind a connection attempt that will never finish.
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'parley',
    // Quoting is unnecessary: config.ts only lets a plain lower-case identifier through.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: string) => (oid === INT8_OID ? (v: string) => Number(v) : defaultParser(oid, format))) as never,
    },
  });
  pool.on('error', options.onError);
  return pool;
}

/** Postgres asks the client to retry these: a deadlock victim, or a serialization failure. */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Runs `fn` inside BEGIN … COMMIT on one connection, rolling back on any error. A transaction
 * chosen as a deadlock victim is run again (up to three times): the lock order in this adapter
 * makes deadlocks rare, and retrying is what Postgres prescribes for the rest.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { client, release } = await checkOut(pool);
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        // The connection itself is gone: do not hand it to the next caller.
        broken = rollbackError;
      });
      const code = (e as { code?: unknown }).code;
      if (attempt < 3 && typeof code === 'string' && RETRYABLE.has(code)) continue;
      throw e;
    } finally {
      release(broken);
    }
  }
}

/**
 * A connection for several statements. pg reports a connection that dies while checked out as
 * an 'error' event on the client, and pg-pool listens only while the client is idle in the pool:
 * without a listener of our own that event would be thrown and end the process. The statement
 * in flight fails as well, and that failure is what the caller sees; the event only marks the
 * connection as one not to hand out again.
 */
export async function checkOut(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(error?: Error): void }> {
  const client = await pool.connect();
  let died: Error | undefined;
  const onError = (e: Error) => (died = e);
  client.on('error', onError);
  return {
    client,
    release(error) {
      client.removeListener('error', onError);
      client.release(error ?? died);
    },
  };
}

export const toBuffer = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
export const toBytes = (b: Buffer): Uint8Array => new Uint8Array(b);
