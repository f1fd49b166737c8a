// Every parser in src/wire is total: any JSON value, and any string, gives a typed value or a
// message, never an exception.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clientFrame, exactRelayFrame, serverFrame, parseJson, parseWith, payload, signupRequest, loginRequest, publishKeysRequest, addOneTimePreKeysRequest, preKeyBundleResponse } from '../../src/wire/index.ts';

const schemas = { clientFrame, serverFrame, payload, signupRequest, loginRequest, publishKeysRequest, addOneTimePreKeysRequest, preKeyBundleResponse };

describe('wire parsers', () => {
  it('accept a well-formed signal frame and strip fields the schema does not name', () => {
    const parsed = parseWith(clientFrame, {
      type: 'signal',
      to: 'bob',
      callId: 'AAAAAAAAAAAAAAAAAAAAAA',
      from: 'mallory',
      data: { kind: 'offer', sdp: 'v=0', extra: 1 },
    });
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.value).toEqual({ type: 'signal', to: 'bob', callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'offer', sdp: 'v=0' } });
  });

  it('explain what is wrong, naming the field', () => {
    const parsed = parseWith(clientFrame, { type: 'signal', to: 'bob', callId: 'short', data: { kind: 'offer', sdp: 'v=0' } });
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toMatch(/^callId: /);
    const unknown = parseWith(clientFrame, { type: 'teleport' });
    expect(unknown.ok).toBe(false);
  });

  it('a file-cancel carries only the reasons it knows, and a reason it does not know still cancels', () => {
    expect(parseWith(payload, { type: 'file-cancel', id: 'f1' })).toEqual({ ok: true, value: { type: 'file-cancel', id: 'f1' } });
    for (const reason of ['no-space', 'not-saved']) {
      expect(parseWith(payload, { type: 'file-cancel', id: 'f1', reason })).toEqual({ ok: true, value: { type: 'file-cancel', id: 'f1', reason } });
    }
    // A newer peer's reason, or junk in its place, is not passed on; the cancel itself stands.
    for (const reason of ['disk on fire', 42, { nested: true }, null]) {
      expect(parseWith(payload, { type: 'file-cancel', id: 'f1', reason })).toEqual({ ok: true, value: { type: 'file-cancel', id: 'f1' } });
    }
    expect(parseWith(payload, { type: 'file-cancel', id: 'x'.repeat(65), reason: 'no-space' }).ok).toBe(false);
  });

  it('an offer may carry a sealed call invitation of bounded size, which the relay hands on unread (issue #16)', () => {
    const frame = (invite: unknown) => ({ type: 'signal', to: 'bob', callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'offer', sdp: 'v=0', sealed: invite } });
    const ok = parseWith(clientFrame, frame('AQID'));
    expect(ok.ok && ok.value).toEqual(frame('AQID'));
    // A fast-path relay check never takes an offer with an invite: clientFrame alone judges it.
    expect(exactRelayFrame(parseJson(JSON.stringify(frame('AQID'))))).toBeUndefined();
    for (const bad of ['', 'not base64!', 'A'.repeat(5462 + 4), 42, null]) {
      const r = parseWith(clientFrame, frame(bad));
      expect(r.ok, String(bad).slice(0, 20)).toBe(false);
      expect(!r.ok && r.message).toMatch(/sealed/);
    }
  });

  it('call payloads: an invitation names its call, voice or video, its fingerprint, and a frame key of 32 bytes or null (issue #16)', () => {
    const callId = 'AAAAAAAAAAAAAAAAAAAAAA';
    const invite = { type: 'call-invite', callId, media: 'video', fingerprint: 'sha-256 AB:CD', frameKey: 'A'.repeat(43), relay: false };
    expect(parseWith(payload, invite).ok).toBe(true);
    expect(parseWith(payload, { ...invite, frameKey: null }).ok).toBe(true);
    for (const frameKey of ['A'.repeat(42), 'A'.repeat(44), '*'.repeat(43), undefined]) expect(parseWith(payload, { ...invite, frameKey }).ok).toBe(false);
    expect(parseWith(payload, { ...invite, media: 'hologram' }).ok).toBe(false);
    expect(parseWith(payload, { ...invite, callId: 'short' }).ok).toBe(false);
    expect(parseWith(payload, { ...invite, fingerprint: '' }).ok).toBe(false);
    expect(parseWith(payload, { type: 'call-accept', callId, fingerprint: 'sha-256 AB:CD', frameKey: null }).ok).toBe(true);
    expect(parseWith(payload, { type: 'call-accept', callId, fingerprint: 'sha-256 AB:CD' }).ok).toBe(false);
    expect(parseWith(payload, { type: 'call-state', callId, muted: true, camera: false, screen: false }).ok).toBe(true);
    expect(parseWith(payload, { type: 'call-state', callId, muted: 'yes', camera: false, screen: false }).ok).toBe(false);
    // A goodbye may say the connection was refused for a swapped fingerprint; an unknown reason is dropped, not the goodbye.
    expect(parseWith(payload, { type: 'bye', reason: 'mismatch' })).toEqual({ ok: true, value: { type: 'bye', reason: 'mismatch' } });
    expect(parseWith(payload, { type: 'bye', reason: 'solar flare' })).toEqual({ ok: true, value: { type: 'bye' } });
    expect(parseWith(payload, { type: 'bye' })).toEqual({ ok: true, value: { type: 'bye' } });
  });

  it('refuse oversized SDP', () => {
    const parsed = parseWith(clientFrame, { type: 'signal', to: 'bob', callId: 'AAAAAAAAAAAAAAAAAAAAAA', data: { kind: 'offer', sdp: 'x'.repeat(16 * 1024 + 1) } });
    expect(parsed.ok).toBe(false);
  });

  for (const [name, schema] of Object.entries(schemas)) {
    it(`${name}: never throws on random JSON or random text`, () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          const r = parseWith(schema, value);
          expect(typeof r.ok).toBe('boolean');
        }),
        { numRuns: 300 },
      );
      fc.assert(
        fc.property(fc.string({ maxLength: 300 }), (text) => {
          const r = parseWith(schema, parseJson(text));
          expect(typeof r.ok).toBe('boolean');
        }),
        { numRuns: 300 },
      );
    });
  }

  it('a __proto__ key in a frame never reaches the prototype', () => {
    const value = parseJson('{"type":"ping","__proto__":{"polluted":true}}');
    const parsed = parseWith(clientFrame, value);
    expect(parsed.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parsed.ok && Object.getPrototypeOf(parsed.value)).toBe(Object.prototype);
  });
});
