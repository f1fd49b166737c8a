// The browser's own storage under the protocol: IndexedDB keeps non-extractable keys and
// ratchet state across a "reload", and key upkeep publishes, refills and rotates prekeys.
// The key directory is a recording fake here; the real one is tested in test/server and e2e.
import { describe, expect, it } from 'vitest';
import { utf8, fromUtf8 } from '../../src/crypto/bytes.ts';
import { BrowserProtocolStore } from '../../src/client/platform/protocol-stores.ts';
import { createIdentity } from '../../src/client/platform/key-vault.ts';
import { maintainKeys, identityToWire } from '../../src/client/messaging/key-maintenance.ts';
import type { ApiClient } from '../../src/client/platform/api-client.ts';
import type { KeyStatusResponse, PublishKeysRequest, AddOneTimePreKeysRequest } from '../../src/wire/index.ts';
import { open, seal, startSession } from '../../src/protocol/session-cipher.ts';
import { webRandom } from '../../src/crypto/random.ts';
import { createParty } from '../support/protocol.ts';

function fakeDirectory() {
  const calls: string[] = [];
  let status: KeyStatusResponse = { identity: null, signedPreKeyId: null, pqPreKeyId: null, oneTimePreKeys: 0 };
  const api = {
    keyStatus: async () => status,
    publishKeys: async (body: PublishKeysRequest) => {
      calls.push(`publish spk=${body.signedPreKey.id} otk=${body.oneTimePreKeys.length}`);
      status = { identity: body.identity, signedPreKeyId: body.signedPreKey.id, pqPreKeyId: body.pqPreKey.id, oneTimePreKeys: status.oneTimePreKeys + body.oneTimePreKeys.length };
    },
    addOneTimePreKeys: async (body: AddOneTimePreKeysRequest) => {
      calls.push(`add otk=${body.oneTimePreKeys.length} first=${body.oneTimePreKeys[0]!.id}`);
      status = { ...status, oneTimePreKeys: status.oneTimePreKeys + body.oneTimePreKeys.length };
    },
  };
  return { api: api as unknown as ApiClient, calls, setCount: (n: number) => (status = { ...status, oneTimePreKeys: n }), status: () => status };
}

const DAY = 86_400_000;

describe('browser key storage and upkeep', () => {
  it('publishes everything on a new device, then refills and rotates on schedule', async () => {
    const userId = `u-${crypto.randomUUID()}`;
    const identity = await createIdentity();
    const store = new BrowserProtocolStore(userId, identity);
    const dir = fakeDirectory();
    const t0 = Date.UTC(2026, 5, 1);
    await maintainKeys(dir.api, store, identity, t0);
    expect(dir.calls).toEqual(['publish spk=1 otk=100']);
    expect(dir.status().identity).toEqual(identityToWire(identity));
    await maintainKeys(dir.api, store, identity, t0 + DAY);
    expect(dir.calls).toHaveLength(1); // nothing due

    dir.setCount(12);
    await maintainKeys(dir.api, store, identity, t0 + 2 * DAY);
    expect(dir.calls[1]).toBe('add otk=88 first=101'); // ids never repeat

    await maintainKeys(dir.api, store, identity, t0 + 8 * DAY);
    expect(dir.calls[2]).toBe('publish spk=2 otk=0');
    expect((await store.listSignedPreKeys()).map((k) => k.id).sort()).toEqual([1, 2]);
    await maintainKeys(dir.api, store, identity, t0 + 8 * DAY + 30 * DAY);
    expect((await store.listSignedPreKeys()).map((k) => k.id)).toContain(3);
    expect((await store.listSignedPreKeys()).map((k) => k.id)).not.toContain(1);
    expect(await store.pqPreKey(1)).toBeUndefined();
  });

  it('keeps private keys non-extractable through IndexedDB', async () => {
    const userId = `u-${crypto.randomUUID()}`;
    const identity = await createIdentity();
    const store = new BrowserProtocolStore(userId, identity);
    const dir = fakeDirectory();
    await maintainKeys(dir.api, store, identity, Date.now());
    const spk = (await store.listSignedPreKeys())[0]!;
    expect(spk.keyPair.privateKey).toBeInstanceOf(CryptoKey);
    expect(spk.keyPair.privateKey.extractable).toBe(false);
    await expect(crypto.subtle.exportKey('pkcs8', spk.keyPair.privateKey)).rejects.toThrow();
    expect(identity.signing.privateKey.extractable).toBe(false);
  });

  it('continues a session from what IndexedDB kept, as after a reload', async () => {
    const alice = await createParty('alice');
    const userId = `u-${crypto.randomUUID()}`;
    const identity = await createIdentity();
    const store = new BrowserProtocolStore(userId, identity);
    const dir = fakeDirectory();
    await maintainKeys(dir.api, store, identity, Date.now());
    const spk = (await store.listSignedPreKeys())[0]!;
    const pq = (await store.pqPreKey(spk.id))!;
    const opk = (await store.oneTimePreKey(1))!;
    const bundle = {
      identity: { signingKey: identity.signing.publicRaw, dhKey: identity.dh.publicRaw, dhKeySignature: identity.dhKeySignature },
      signedPreKey: { id: spk.id, publicKey: spk.keyPair.publicRaw, signature: spk.signature },
      pqPreKey: { id: pq.id, publicKey: pq.publicKey, signature: pq.signature },
      oneTimePreKey: { id: 1, publicKey: opk.keyPair.publicRaw },
    };
    await startSession('bob', bundle, alice.deps);
    const deps = { identities: store, preKeys: store, sessions: store, random: webRandom, now: () => Date.now() };
    expect(fromUtf8((await open('alice', await seal('bob', utf8('one'), alice.deps), deps)).plaintext)).toBe('one');
    expect(await store.oneTimePreKey(1)).toBeUndefined();
    // A new store object over the same database: only what IndexedDB kept.
    const reloaded = new BrowserProtocolStore(userId, identity);
    const deps2 = { identities: reloaded, preKeys: reloaded, sessions: reloaded, random: webRandom, now: () => Date.now() };
    expect(fromUtf8((await open('alice', await seal('bob', utf8('two'), alice.deps), deps2)).plaintext)).toBe('two');
    expect(fromUtf8((await open('bob', await seal('alice', utf8('three'), deps2), alice.deps)).plaintext)).toBe('three');
    expect(await reloaded.trustOf('alice', alice.identity.signing.publicRaw)).toBe('trusted');
  });
});
