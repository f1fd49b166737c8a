// Password hashing, off the event loop: bcrypt (DESIGN.md default, cost 12) or Argon2id
// (m = 19 MiB, t = 2, p = 1: the first choice of OWASP's Password Storage Cheat Sheet), both run
// by native bindings on libuv's thread pool, so a login storm queues there and never stalls the
// event loop that relays signaling. A semaphore caps how many hashes run at once.
//
// The password is NFKC-normalised (NIST SP 800-63B §5.1.1.2) and pre-hashed with SHA-256 into 44
// base64 characters before either algorithm: bcrypt reads only 72 bytes, so without this two
// long passphrases sharing a prefix would both work. Pre-hashing the same way for both keeps
// stored hashes of either kind verifiable, and a hash of the other kind (or another bcrypt
// cost) is reported as needing a rehash, which the account service does at the next login.
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import bcrypt from 'bcrypt';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { Semaphore } from './semaphore.ts';

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

export function createPasswordHasher(options: { algorithm: PasswordAlgorithm; bcryptCost: number; concurrency?: number }): PasswordHasher {
  const { algorithm, bcryptCost } = options;
  const gate = new Semaphore(options.concurrency ?? Math.max(1, os.availableParallelism()), 256);
  const currentArgonParams = `m=${ARGON2ID_PARAMS.memoryCost},t=${ARGON2ID_PARAMS.timeCost},p=${ARGON2ID_PARAMS.parallelism}`;
  const hashWith = (alg: PasswordAlgorithm, input: string) => (alg === 'bcrypt' ? bcrypt.hash(input, bcryptCost) : argonHash(input, ARGON2ID_PARAMS));
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
      const ok = await gate.run(() => (kind.algorithm === 'bcrypt' ? bcrypt.compare(input, target) : argonVerify(target, input)));
      const needsRehash = kind.algorithm !== algorithm || (kind.algorithm === 'bcrypt' && kind.bcryptCost !== bcryptCost) || (kind.algorithm === 'argon2id' && kind.argonParams !== currentArgonParams);
      return { ok: ok && stored !== undefined, needsRehash };
    },
  };
}
