import { describe, expect, it } from 'vitest';
import { planPreKeyMaintenance, SIGNED_PREKEY_KEEP_MS, SIGNED_PREKEY_ROTATE_MS, generateOneTimePreKeys, verifyBundle } from '../../src/protocol/prekeys.ts';
import { generateDh } from '../../src/protocol/dh.ts';
import { ProtocolError } from '../../src/protocol/errors.ts';
import { createParty } from '../support/protocol.ts';

const DAY = 86_400_000;

describe('prekey upkeep', () => {
  it('rotates weekly, keeps a replaced key 30 days, and refills below 20', () => {
    const t0 = Date.UTC(2026, 0, 1);
    expect(planPreKeyMaintenance([], 0, t0)).toEqual({ rotate: true, retire: [], oneTimeToAdd: 100 });
    expect(planPreKeyMaintenance([{ id: 1, createdAt: t0 }], 100, t0 + 6 * DAY)).toEqual({ rotate: false, retire: [], oneTimeToAdd: 0 });
    expect(planPreKeyMaintenance([{ id: 1, createdAt: t0 }], 20, t0 + SIGNED_PREKEY_ROTATE_MS).rotate).toBe(true);
    expect(planPreKeyMaintenance([{ id: 1, createdAt: t0 }], 19, t0).oneTimeToAdd).toBe(81);
    // Key 1 was replaced by key 2 at t0+7d; it may be deleted 30 days after that.
    const keys = [{ id: 1, createdAt: t0 }, { id: 2, createdAt: t0 + 7 * DAY }];
    expect(planPreKeyMaintenance(keys, 50, t0 + 7 * DAY + SIGNED_PREKEY_KEEP_MS - 1).retire).toEqual([]);
    expect(planPreKeyMaintenance(keys, 50, t0 + 7 * DAY + SIGNED_PREKEY_KEEP_MS).retire).toEqual([1]);
  });

  it('makes one-time prekeys with consecutive ids that wrap before the u32 limit', async () => {
    const keys = await generateOneTimePreKeys(0xfffffffd, 3, generateDh);
    expect(keys.map((k) => k.id)).toEqual([0xfffffffd, 0xfffffffe, 1]);
  });

  it('verifies a bundle only with every signature intact', async () => {
    const bob = await createParty('bob');
    await expect(verifyBundle(bob.bundle())).resolves.toBeUndefined();
    const b = bob.bundle();
    const sig = new Uint8Array(b.signedPreKey.signature);
    sig[5]! ^= 1;
    await expect(verifyBundle({ ...b, signedPreKey: { ...b.signedPreKey, signature: sig } })).rejects.toBeInstanceOf(ProtocolError);
    await expect(verifyBundle({ ...b, signedPreKey: { ...b.signedPreKey, id: b.signedPreKey.id + 1 } })).rejects.toBeInstanceOf(ProtocolError);
  });
});
