// The relay's exact-shape check (src/wire/signaling-fast.ts) against the schema it stands in
// for: whatever it accepts, `clientFrame` accepts and returns unchanged; every frame a browser
// sends in the usual shape takes it; anything it declines is still judged by `clientFrame`.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clientFrame, exactRelayFrame, isNormalUsername, normalizeUsername, parseJson, parseWith } from '../../src/wire/index.ts';

const CALL = 'AAAAAAAAAAAAAAAAAAAAAA';
const candidate = { candidate: 'candidate:842163049 1 udp 1677729535 203.0.113.7 61665 typ srflx raddr 0.0.0.0 rport 0 generation 0', sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'EsAw' };
const usual = [
  { type: 'ping' },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'offer', sdp: 'v=0\r\n' } },
  { type: 'signal', to: 'Bob ', callId: CALL, data: { kind: 'answer', sdp: 'v=0\r\n' } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'ice', candidate } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'ice', candidate: { candidate: '', sdpMid: null, sdpMLineIndex: null, usernameFragment: null } } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'ice', candidate: { candidate: 'candidate:1 1 udp 1 192.0.2.1 9 typ host' } } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'ice', candidate: null } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'decline', reason: 'busy' } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'decline', reason: 'declined' } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'decline', reason: 'mismatch' } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'hangup' } },
  { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'restart' } },
  // Several browsers per account (issue #17): a browser of the recipient, a call answered elsewhere.
  { type: 'signal', to: 'bob', toDevice: 'laptop_1', callId: CALL, data: { kind: 'ice', candidate } },
  { type: 'signal', to: 'bob', toDevice: '1', callId: CALL, data: { kind: 'hangup', reason: 'answered' } },
];

const PATHS: (string | number)[][] = [['to'], ['toDevice'], ['callId'], ['type'], ['data'], ['data', 'kind'], ['data', 'sdp'], ['data', 'reason'], ['data', 'candidate'], ['data', 'candidate', 'candidate'], ['data', 'candidate', 'sdpMid'], ['data', 'candidate', 'sdpMLineIndex'], ['data', 'candidate', 'usernameFragment'], ['data', 'candidate', 'extra'], ['extra'], ['data', 'extra'], ['__proto__']];
/** Values at and around every limit and type the schema sets. */
const EDGES: unknown[] = [null, true, 0, -1, 1.5, 64, 65, '', 'x', [], {}, 'offer', 'ice', 'busy', 'signal', 'ping', 'A'.repeat(15), 'A'.repeat(16), 'A'.repeat(64), 'A'.repeat(65), 'A'.repeat(16) + '!', 'answered', 'A'.repeat(17), 'a'.repeat(128), 'a'.repeat(129), 'x'.repeat(1024), 'x'.repeat(1025), 'x'.repeat(16 * 1024), 'x'.repeat(16 * 1024 + 1)];

/** A usual frame with the value at `path` replaced, as the relay sees it: text off the socket, parsed. */
function variant(frame: object, path: (string | number)[], value: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(frame)) as Record<string, unknown>;
  let at: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
    at = at[key] as Record<string, unknown>;
  }
  at[path.at(-1)!] = value;
  return parseJson(JSON.stringify(copy));
}

function agrees(value: unknown): void {
  const fast = exactRelayFrame(value);
  if (fast === undefined) return;
  const slow = parseWith(clientFrame, value);
  expect(slow.ok, JSON.stringify(value).slice(0, 200)).toBe(true);
  expect(slow.ok && slow.value).toStrictEqual(fast);
}

describe('exact-shape relay frames', () => {
  it('takes every usual frame, returning exactly what clientFrame returns', () => {
    for (const frame of usual) {
      const value = parseJson(JSON.stringify(frame));
      const fast = exactRelayFrame(value);
      const slow = parseWith(clientFrame, value);
      expect(fast, JSON.stringify(frame)).toBeDefined();
      expect(slow.ok && slow.value).toEqual(fast);
    }
  });

  it('declines frames clientFrame would refuse or strip, and other frame types', () => {
    const declined = [
      { type: 'signal', to: 'bob', callId: CALL, from: 'mallory', data: { kind: 'hangup' } },
      { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'offer', sdp: 'v=0', extra: 1 } },
      { type: 'signal', to: 'bob', callId: 'short', data: { kind: 'hangup' } },
      { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'ice' } },
      { type: 'signal', to: 'bob', callId: CALL, data: { kind: 'offer', sdp: 'x'.repeat(16 * 1024 + 1) } },
      { type: 'ping', extra: 1 },
      { type: 'auth', token: 'x' },
      { type: 'send', to: 'bob', id: CALL, body: 'AAAA' },
    ];
    for (const frame of declined) expect(exactRelayFrame(parseJson(JSON.stringify(frame))), JSON.stringify(frame)).toBeUndefined();
    expect(exactRelayFrame(parseJson('{"type":"ping","__proto__":{"polluted":true}}'))).toBeUndefined();
  });

  it('never accepts what clientFrame refuses, nor anything it would change: every edge value at every place', () => {
    let accepted = 0;
    for (const frame of usual) {
      for (const path of PATHS) {
        for (const value of EDGES) {
          const v = variant(frame, path, value);
          agrees(v);
          if (exactRelayFrame(v)) accepted++;
        }
      }
    }
    expect(accepted).toBeGreaterThan(100); // the edges inside the limits do take the short way
  });

  it('never accepts what clientFrame refuses, nor anything it would change: random JSON (fast-check)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.constantFrom(...usual), fc.constantFrom(...PATHS), fc.jsonValue({ maxDepth: 2 })).map(([f, p, v]) => variant(f, p, v)), fc.jsonValue()), agrees),
      { numRuns: 3000 },
    );
  });

  it('takes the short way for names already in normal form, and only for them', () => {
    for (const name of ['bob', 'user000123', 'a.b-c_d', 'x'.repeat(32)]) {
      expect(isNormalUsername(name)).toBe(true);
      expect(normalizeUsername(name)).toEqual({ ok: true, username: name });
    }
    for (const name of ['Bob', ' bob', 'ｂｏｂ', 'bo', 'x'.repeat(33), 'аlice', '']) expect(isNormalUsername(name)).toBe(false);
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (name) => {
        if (isNormalUsername(name)) expect(normalizeUsername(name)).toEqual({ ok: true, username: name });
      }),
      { numRuns: 2000 },
    );
  });
});
