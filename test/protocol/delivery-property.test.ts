// Property: whatever the network does — reorder, drop, duplicate — every message delivered for
// the first time decrypts to exactly its text, every repeat is reported as a duplicate, and
// nothing ever throws anything but a ProtocolError.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { fromUtf8, utf8 } from '../../src/crypto/bytes.ts';
import { hasSession, open, seal, startSession } from '../../src/protocol/session-cipher.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';
import { createParty, type Party } from '../support/protocol.ts';

type Op = { op: 'send'; from: 'alice' | 'bob' } | { op: 'deliver'; pick: number; keepCopy: boolean } | { op: 'drop'; pick: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('send' as const), from: fc.constantFrom('alice' as const, 'bob' as const) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('deliver' as const), pick: fc.nat(), keepCopy: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), pick: fc.nat() }) },
);

interface InFlight {
  id: number;
  from: Party;
  to: Party;
  text: string;
  envelope: Uint8Array;
}

describe('delivery in any order', () => {
  it('decrypts each message exactly once or reports it, never shows wrong text, never throws otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 60 }), async (ops) => {
        const alice = await createParty('alice');
        const bob = await createParty('bob');
        await startSession('bob', bob.bundle(), alice.deps);
        const parties = { alice, bob };
        const pool: InFlight[] = [];
        const delivered = new Set<number>();
        let nextId = 0;

        const deliver = async (m: InFlight) => {
          let text: string | undefined;
          let error: unknown;
          try {
            text = fromUtf8((await open(m.from.name, m.envelope, m.to.deps)).plaintext);
          } catch (e) {
            error = e;
          }
          if (error !== undefined) {
            expect(error).toBeInstanceOf(ProtocolError);
            // A message seen before is a duplicate; one never seen must have decrypted.
            expect(delivered.has(m.id) ? (error as ProtocolError).code : 'should have decrypted').toBe('duplicate');
          } else {
            expect(delivered.has(m.id)).toBe(false);
            expect(text).toBe(m.text);
            delivered.add(m.id);
          }
        };

        for (const op of ops) {
          if (op.op === 'send') {
            const from = parties[op.from];
            const to = op.from === 'alice' ? bob : alice;
            if (!(await hasSession(to.name, from.deps))) continue; // Bob cannot write before he has heard from Alice
            const id = nextId++;
            const text = `${op.from} #${id}`;
            pool.push({ id, from, to, text, envelope: await seal(to.name, utf8(text), from.deps) });
          } else if (pool.length > 0) {
            const i = op.pick % pool.length;
            const m = pool[i]!;
            if (op.op === 'drop' || !op.keepCopy) pool.splice(i, 1);
            if (op.op === 'deliver') await deliver(m);
          }
        }
        // Whatever is still in flight arrives at the end, in reverse order for good measure.
        for (const m of pool.reverse()) await deliver(m);
      }),
      { numRuns: 40 },
    );
  });
});
