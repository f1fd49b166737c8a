// The PostgreSQL schema, Redis key prefix and token signing key that one test run's server
// processes share, and their removal. Nothing outside that schema and prefix is touched; a run
// that died before cleaning up is cleaned up by the next (its schema names carry its pid).
import { generateKeyPairSync } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

const DATABASE_URL = process.env.DATABASE_URL ?? '';
const REDIS_URL = process.env.REDIS_URL ?? '';

/** Why tests that need PostgreSQL and Redis cannot run here, or undefined when they can. */
export const sharedServicesSkipReason =
  !DATABASE_URL || !REDIS_URL
    ? `${[!DATABASE_URL && 'DATABASE_URL', !REDIS_URL && 'REDIS_URL'].filter(Boolean).join(' and ')} not set (CI sets DATABASE_URL=postgres://postgres@127.0.0.1:5432/test and REDIS_URL=redis://127.0.0.1:6379)`
    : undefined;

export interface SharedServices {
  /** The settings every process of this run gets: same schema, prefix and signing key. */
  env: Record<string, string>;
  schema: string;
  prefix: string;
  /** Drops the schema and deletes the keys under the prefix. Safe to call twice. */
  remove(): Promise<void>;
}

const NAME = 'parley_e2e_scale';

export async function openSharedServices(): Promise<SharedServices> {
  await removeLeftovers();
  const schema = `${NAME}_${process.pid}_${Date.now().toString(36)}`;
  const prefix = `${schema}:`;
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    schema,
    prefix,
    env: {
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      DATABASE_POOL_SIZE: '4',
      REDIS_URL,
      REDIS_PREFIX: prefix,
      TOKEN_SIGNING_KEY: JSON.stringify(signingKey),
    },
    remove: () => removeRun(schema, prefix),
  };
}

async function removeRun(schema: string, prefix: string): Promise<void> {
  const db = new pg.Client({ connectionString: DATABASE_URL });
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 2 });
  try {
    await db.connect();
    await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await redis.connect();
    for (let cursor = '0'; ; ) {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      if (next === '0') break;
      cursor = next;
    }
  } finally {
    await db.end().catch(() => {});
    redis.disconnect();
  }
}

/** Schemas (and their key prefixes) of earlier runs whose test process no longer exists. */
async function removeLeftovers(): Promise<void> {
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  let stale: string[];
  try {
    const { rows } = await db.query<{ name: string }>('SELECT schema_name AS name FROM information_schema.schemata WHERE schema_name LIKE $1', [`${NAME}\\_%`]);
    stale = rows.map((r) => r.name).filter((name) => !alive(Number(name.slice(NAME.length + 1).split('_')[0])));
  } finally {
    await db.end();
  }
  for (const schema of stale) await removeRun(schema, `${schema}:`);
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
