// Password hashing with bcrypt (DESIGN.md: cost 12), run by the native binding on libuv's
// thread pool, so a login storm queues there and never stalls the event loop that relays
// signaling. bcrypt reads only the first 72 bytes of its input, so the password is first
// NFKC-normalised (NIST SP 800-63B §5.1.1.2) and pre-hashed with SHA-256 into 44 base64
// characters: every character of a long passphrase counts, and nothing is silently truncated.
import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import bcrypt from 'bcrypt';
import { Semaphore } from './semaphore.ts';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Compares against `hash`, or against a dummy hash when the user does not exist. */
  verify(password: string, hash: string | undefined): Promise<boolean>;
  readonly cost: number;
}

function prehash(password: string): string {
  return createHash('sha256').update(password.normalize('NFKC'), 'utf8').digest('base64');
}

export function createBcryptHasher(cost: number, concurrency = Math.max(1, os.availableParallelism())): PasswordHasher {
  const gate = new Semaphore(concurrency, 256);
  // An unknown username costs the same bcrypt work as a wrong password, so response time says
  // nothing about which accounts exist. Made once, lazily, at the configured cost.
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= bcrypt.hash(randomBytes(32).toString('base64'), cost));

  return {
    cost,
    hash: (password) => gate.run(() => bcrypt.hash(prehash(password), cost)),
    async verify(password, hash) {
      const target = hash ?? (await dummyHash());
      const ok = await gate.run(() => bcrypt.compare(prehash(password), target));
      return ok && hash !== undefined;
    },
  };
}
