// Bulk sign-up for the benchmark: writes N accounts straight through the store interface (the
// same adapter the server opens: SQLite or PostgreSQL), all with one precomputed bcrypt hash of
// one password, so 19,000 accounts take seconds instead of 19,000 × 250 ms of bcrypt. The
// accounts are real: they can log in, and tokens minted for them pass the server's checks.
import type { Config } from '../../src/server/config.ts';
import { openStore } from '../../src/server/store/open-store.ts';
import { benchUserId, benchUserName } from './protocols.ts';

const identity = { signingKey: new Uint8Array(65).fill(4), dhKey: new Uint8Array(65).fill(4), dhKeySignature: new Uint8Array(64), updatedAt: 0 };

/** Users 0…count-1, named as the load generator names them (protocols.ts). */
export async function seedUsers(config: Config, count: number, passwordHash: string): Promise<number> {
  const started = performance.now();
  const store = await openStore(config, { warn: () => {} });
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < count) {
          const i = next++;
          const outcome = await store.users.create({ id: benchUserId(i), username: benchUserName(i), passwordHash, createdAt: Date.now() }, { ...identity, updatedAt: Date.now() });
          if (outcome !== 'ok') throw new Error(`seeding ${benchUserName(i)}: ${outcome}`);
        }
      }),
    );
  } finally {
    await store.close();
  }
  return (performance.now() - started) / 1000;
}
