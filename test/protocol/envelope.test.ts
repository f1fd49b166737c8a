import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope } from '../../src/protocol/envelope.ts';
import { decodeHeader, encodeHeader } from '../../src/protocol/header.ts';
import { pad, paddedLength, unpad } from '../../src/protocol/padding.ts';
import { open, seal, startSession } from '../../src/protocol/session-cipher.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';
import { utf8 } from '../../src/crypto/bytes.ts';
import { createParty } from '../support/protocol.ts';

describe('padding', () => {
  it('hides the length of short messages in one 256-byte bucket and round-trips', () => {
    for (const n of [0, 1, 100, 255]) expect(pad(new Uint8Array(n)).length).toBe(256);
    expect(paddedLength(256)).toBe(512);
    expect(paddedLength(65535)).toBe(65536);
    expect(paddedLength(65536)).toBe(131072);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        expect(unpad(pad(bytes))).toEqual(bytes);
      }),
    );
  });

  it('rejects malformed padding', () => {
    expect(unpad(new Uint8Array(16))).toBeUndefined();
    expect(unpad(Uint8Array.of(1, 2, 0x80, 5))).toBeUndefined();
  });
});

describe('envelope and header codecs', () => {
  it('round-trip a header', () => {
    const h = { dh: Uint8Array.of(4, ...new Uint8Array(64).fill(9)), pn: 7, n: 0xfffffffe };
    expect(decodeHeader(encodeHeader(h))).toEqual(h);
    expect(decodeHeader(new Uint8Array(73))).toBeUndefined(); // not a point prefix
  });

  it('round-trip real envelopes of both kinds', async () => {
    const alice = await createParty('alice');
    const bob = await createParty('bob');
    await startSession('bob', bob.bundle(), alice.deps);
    const first = await seal('bob', utf8('hi'), alice.deps);
    const decoded = decodeEnvelope(first)!;
    expect(decoded.kind).toBe('prekey');
    expect(encodeEnvelope(decoded)).toEqual(first);
    await open('alice', first, bob.deps);
    const reply = await seal('alice', utf8('yo'), bob.deps);
    expect(decodeEnvelope(reply)!.kind).toBe('message');
    expect(encodeEnvelope(decodeEnvelope(reply)!)).toEqual(reply);
  });

  it('never throw on random bytes, and open() only ever raises ProtocolError', async () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        expect(() => decodeEnvelope(bytes)).not.toThrow();
      }),
      { numRuns: 500 },
    );
    const alice = await createParty('alice');
    const bob = await createParty('bob');
    await startSession('bob', bob.bundle(), alice.deps);
    await open('alice', await seal('bob', utf8('hi'), alice.deps), bob.deps);
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(1, 2), async (bytes, kind) => {
        const candidate = Uint8Array.of(1, kind, ...bytes);
        await expect(open('alice', candidate, bob.deps)).rejects.toBeInstanceOf(ProtocolError);
      }),
      { numRuns: 100 },
    );
  });
});
