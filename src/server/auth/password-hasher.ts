// Password hashing, off the event loop: bcrypt (DESIGN.md default, cost 12) or Argon2id
// (m = 19 MiB, t = 2, p = 1: the first choice of OWASP's Password Storage Cheat Sheet), both run
// in worker threads at the lowest CPU priority (hash-pool.ts), so a login storm queues there and
// takes only the CPU the event loop that relays signaling leaves. A semaphore caps how many
// hashes run at once, and how many may wait.
//
// The password is NFKC-normalised (NIST SP 800-63B §5.1.1.2) and pre-hashed with SHA-256 into 44
// base64 characters before either algorithm: bcrypt reads only 72 bytes, so without this two
// long passphrases sharing a prefix would both work. Pre-hashing the same way for both keeps
// stored hashes of either kind verifiable, and a hash of the other kind (or another bcrypt
// cost) is reported as needing a rehash, which the account service does at the next login.
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { Semaphore } from './semaphore.ts';
import { createHashPool, type HashPool } from './hash-pool.ts';

export type PasswordAlgorithm = 'bcrypt' | 'argon2id';

export interface VerifyOutcome {
  ok: boolean;
  /** The stored hash is of another algorithm or strength than configured: store a new one. */
  needsRehash: boolean;
}

export interface PasswordHasher {
  readonly algorithm: PasswordAlgorithm;
  hash(password: string): Promise<string>;
  /** Compares against `stored`, or against a dummy hash when the user does not exist. */
  verify(password: string, stored: string | undefined): Promise<VerifyOutcome>;
}

/** OWASP Password Storage Cheat Sheet, Argon2id: m=19456 KiB, t=2, p=1. */
// `algorithm: 2` is the binding's const enum Algorithm.Argon2id (0 = Argon2d, 1 = Argon2i), which
// cannot be imported by value under isolated modules.
export const ARGON2ID_PARAMS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

function prehash(password: string): string {
  return createHash('sha256').update(password.normalize('NFKC'), 'utf8').digest('base64');
}

function kindOf(stored: string): { algorithm: PasswordAlgorithm; bcryptCost?: number; argonParams?: string } | undefined {
  const b = /^\$2[aby]\$(\d\d)\$/.exec(stored);
  if (b) return { algorithm: 'bcrypt', bcryptCost: Number(b[1]) };
  const a = /^\$argon2id\$v=19\$(m=\d+,t=\d+,p=\d+)\$/.exec(stored);
  if (a) return { algorithm: 'argon2id', argonParams: a[1] };
  return undefined;
}

export function createPasswordHasher(options: { algorithm: PasswordAlgorithm; bcryptCost: number; concurrency?: number; pool?: HashPool }): PasswordHasher {
  const { algorithm, bcryptCost } = options;
  const concurrency = options.concurrency ?? Math.max(1, os.availableParallelism());
  const gate = new Semaphore(concurrency, 256);
  // One pool per process would do; one per hasher keeps tests independent. Threads start at first use.
  let ownPool: HashPool | undefined;
  const pool = () => options.pool ?? (ownPool ??= createHashPool(concurrency));
  const argonHash = (input: string) => pool().run({ op: 'argon2-hash', input, options: ARGON2ID_PARAMS }) as Promise<string>;
  const currentArgonParams = `m=${ARGON2ID_PARAMS.memoryCost},t=${ARGON2ID_PARAMS.timeCost},p=${ARGON2ID_PARAMS.parallelism}`;
  const hashWith = (alg: PasswordAlgorithm, input: string) => (alg === 'bcrypt' ? (pool().run({ op: 'bcrypt-hash', input, cost: bcryptCost }) as Promise<string>) : argonHash(input));
  // An unknown username costs the same work as a wrong password, so response time says nothing
  // about which accounts exist. Made once, lazily, with the configured algorithm.
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= hashWith(algorithm, randomBytes(32).toString('base64')));

  return {
    algorithm,
    hash: (password) => gate.run(() => hashWith(algorithm, prehash(password))),
    async verify(password, stored) {
      const target = stored ?? (await dummyHash());
      const kind = kindOf(target);
      if (!kind) return { ok: false, needsRehash: false };
      const input = prehash(password);
      const ok = (await gate.run(() => pool().run(kind.algorithm === 'bcrypt' ? { op: 'bcrypt-compare', input, stored: target } : { op: 'argon2-verify', input, stored: target }))) === true;
      const needsRehash = kind.algorithm !== algorithm || (kind.algorithm === 'bcrypt' && kind.bcryptCost !== bcryptCost) || (kind.algorithm === 'argon2id' && kind.argonParams !== currentArgonParams);
      return { ok: ok && stored !== undefined, needsRehash };
    },
  };
}
