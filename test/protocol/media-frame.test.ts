// Issue #16: call media frames sealed end to end (src/protocol/media-frame.ts), checked against
// frames made by an independent implementation (test/vectors/media-frame.json, node:crypto),
// and against every way a frame can be wrong.
import { describe, expect, it } from 'vitest';
import vectors from '../vectors/media-frame.json' with { type: 'json' };
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { clearBytesFor, deriveFrameKey, openFrame, sealFrame } from '../../src/protocol/media-frame.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';

const code = (e: unknown) => (e instanceof ProtocolError ? e.code : String(e));
const fixed = (bytes: Uint8Array) => (n: number) => {
  if (n !== bytes.length) throw new Error(`asked for ${n} random bytes`);
  return new Uint8Array(bytes);
};

describe('media frames (issue #16)', () => {
  it('seal exactly as the independent implementation does, and open its frames', async () => {
    const key = await deriveFrameKey(fromHex(vectors.secret), vectors.callId);
    for (const c of vectors.cases) {
      const frame = fromHex(c.frame);
      const clear = clearBytesFor(c.kind as 'audio' | 'video', c.keyFrame);
      expect(toHex(await sealFrame(key, frame, clear, fixed(fromHex(c.iv)))), c.name).toBe(c.sealed);
      expect(toHex(await openFrame(key, fromHex(c.sealed))), c.name).toBe(c.frame);
    }
  });

  it('leave the codec header clear (the depacketizer reads it) and hide the rest', async () => {
    expect([clearBytesFor('audio', false), clearBytesFor('video', true), clearBytesFor('video', false)]).toEqual([1, 10, 3]);
    const key = await deriveFrameKey(webRandom(32), 'AAECAwQFBgcICQoLDA0ODw');
    const frame = new Uint8Array(200).fill(0x41);
    const sealed = await sealFrame(key, frame, 10, webRandom);
    expect(sealed.length).toBe(200 + 16 + 12 + 1);
    expect(toHex(sealed.subarray(0, 10))).toBe(toHex(frame.subarray(0, 10)));
    expect(toHex(sealed.subarray(10, 200))).not.toContain('4141');
  });

  it('refuse the wrong key, another call\'s key, a changed header, body or trailer, and garbage', async () => {
    const secret = webRandom(32);
    const key = await deriveFrameKey(secret, 'AAECAwQFBgcICQoLDA0ODw');
    const sealed = await sealFrame(key, webRandom(120), 3, webRandom);
    const otherCall = await deriveFrameKey(secret, 'AAECAwQFBgcICQoLDA0OEA');
    await expect(openFrame(otherCall, sealed)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    await expect(openFrame(await deriveFrameKey(webRandom(32), 'AAECAwQFBgcICQoLDA0ODw'), sealed)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    for (const at of [0, 2, 3, 60, sealed.length - 14, sealed.length - 2]) {
      const changed = new Uint8Array(sealed);
      changed[at]! ^= 0x01;
      await expect(openFrame(key, changed), `byte ${at}`).rejects.toBeInstanceOf(ProtocolError);
    }
    const wrongClear = new Uint8Array(sealed);
    wrongClear[wrongClear.length - 1] = 11;
    await expect(openFrame(key, wrongClear)).rejects.toSatisfy((e) => code(e) === 'malformed_message');
    for (const junk of [new Uint8Array(0), new Uint8Array(28), webRandom(29), webRandom(500)]) {
      await expect(openFrame(key, junk)).rejects.toBeInstanceOf(ProtocolError);
    }
  });

  it('never use one random IV twice in a row (each frame asks for a fresh one)', async () => {
    const key = await deriveFrameKey(webRandom(32), 'AAECAwQFBgcICQoLDA0ODw');
    const ivs = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const s = await sealFrame(key, webRandom(40), 1, webRandom);
      ivs.add(toHex(s.subarray(s.length - 13, s.length - 1)));
    }
    expect(ivs.size).toBe(50);
  });

  it('take only a 32-byte secret', async () => {
    await expect(deriveFrameKey(webRandom(31), 'AAECAwQFBgcICQoLDA0ODw')).rejects.toBeInstanceOf(ProtocolError);
  });
});
