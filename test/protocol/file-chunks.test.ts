import { describe, expect, it } from 'vitest';
import { chunkCount, chunkHash, openChunk, peekChunk, rootHash, sealChunk, FILE_CHUNK_BYTES } from '../../src/protocol/file-chunks.ts';
import { importAesKey } from '../../src/crypto/aead.ts';
import { concatBytes, toHex } from '../../src/crypto/bytes.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';

const code = (e: unknown) => (e instanceof ProtocolError ? e.code : String(e));

describe('file chunks', () => {
  it('round-trip, and counts chunks with at least one for an empty file', async () => {
    const key = await importAesKey(webRandom(32));
    const id = webRandom(16);
    const data = webRandom(1000);
    const frame = await sealChunk(key, id, 2, 3, data, webRandom);
    expect(peekChunk(frame)).toEqual({ fileId: id, index: 2 });
    expect((await openChunk(key, id, 3, frame)).plaintext).toEqual(data);
    expect(chunkCount(0)).toBe(1);
    expect(chunkCount(FILE_CHUNK_BYTES)).toBe(1);
    expect(chunkCount(FILE_CHUNK_BYTES + 1)).toBe(2);
  });

  it('refuse a changed, moved, truncated-file or foreign chunk', async () => {
    const key = await importAesKey(webRandom(32));
    const id = webRandom(16);
    const frame = await sealChunk(key, id, 1, 4, webRandom(100), webRandom);
    const flipped = new Uint8Array(frame);
    flipped[frame.length - 1]! ^= 1;
    await expect(openChunk(key, id, 4, flipped)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    const moved = new Uint8Array(frame);
    moved[1 + 16 + 3] = 2; // index 1 → 2
    await expect(openChunk(key, id, 4, moved)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    await expect(openChunk(key, id, 3, frame)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed'); // claims fewer chunks
    await expect(openChunk(key, webRandom(16), 4, frame)).rejects.toSatisfy((e) => code(e) === 'malformed_message');
    await expect(openChunk(await importAesKey(webRandom(32)), id, 4, frame)).rejects.toSatisfy((e) => code(e) === 'decrypt_failed');
    expect(peekChunk(Uint8Array.of(1, 2, 3))).toBeUndefined();
  });

  it('root hash is SHA-256 over the chunk hashes in order', async () => {
    const a = webRandom(10);
    const b = webRandom(10);
    const [ha, hb] = [await chunkHash(a), await chunkHash(b)];
    expect(toHex(await rootHash(concatBytes(ha, hb)))).not.toBe(toHex(await rootHash(concatBytes(hb, ha))));
    expect(ha).toHaveLength(32);
  });
});
