// The WebSocket heartbeat (src/server/signaling/heartbeat.ts): every socket pinged once a round,
// a silent one terminated at the next, and the work spread over the round in small steps.
import { afterEach, describe, expect, it } from 'vitest';
import { markHeard, markSpoke, startHeartbeat, type Heartbeat } from '../../src/server/signaling/heartbeat.ts';

class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  pings = 0;
  terminated = false;
  ping() {
    this.pings++;
  }
  terminate() {
    this.terminated = true;
    this.readyState = 3;
  }
}

let beat: Heartbeat<FakeSocket> | undefined;
afterEach(() => beat?.stop());

// Steps are taken by hand on a clock of the test's own; the timer never fires during a test.
let clock = 0;
const INTERVAL = 1e9;
const start = (sockets: Set<FakeSocket>, steps: number) => (beat = startHeartbeat({ intervalMs: INTERVAL, steps, sockets: () => sockets, now: () => clock }));

describe('signaling heartbeat', () => {
  it('spreads one round of pings over its steps: each step pings at most its share, each socket once', () => {
    const sockets = new Set(Array.from({ length: 1000 }, () => new FakeSocket()));
    const hb = start(sockets, 100);
    for (const s of sockets) hb.alive(s);
    let before = 0;
    for (let i = 0; i < 100; i++) {
      hb.step();
      const now = [...sockets].reduce((n, s) => n + s.pings, 0);
      expect(now - before).toBeLessThanOrEqual(10);
      before = now;
    }
    expect([...sockets].every((s) => s.pings === 1)).toBe(true);
  });

  it('terminates a socket that did not answer its ping by the next round, and keeps one that did', () => {
    const quiet = new FakeSocket();
    const lively = new FakeSocket();
    const sockets = new Set([quiet, lively]);
    const hb = start(sockets, 1);
    hb.alive(quiet);
    hb.alive(lively);
    hb.step(); // round 1: both pinged
    expect([quiet.pings, lively.pings]).toEqual([1, 1]);
    hb.alive(lively); // only one pong comes back
    clock += INTERVAL;
    hb.step(); // round 2
    expect(quiet.terminated).toBe(true);
    expect(lively.terminated).toBe(false);
    expect([quiet.pings, lively.pings]).toEqual([1, 2]);
  });

  it('does not ping a socket that sent and was sent a frame since its last turn, and pings it once it goes quiet', () => {
    const talking = new FakeSocket();
    const hb = start(new Set([talking]), 1);
    hb.alive(talking);
    for (let round = 0; round < 3; round++) {
      markHeard(talking);
      markSpoke(talking);
      hb.step();
      clock += INTERVAL;
    }
    expect(talking.pings).toBe(0);
    expect(talking.terminated).toBe(false);
    hb.step(); // quiet since its last turn: pinged
    expect(talking.pings).toBe(1);
    clock += INTERVAL;
    hb.step(); // and, not having answered, terminated
    expect(talking.terminated).toBe(true);
  });

  it('takes a frame from the peer as an answer, but still pings unless frames also went to it', () => {
    const sending = new FakeSocket();
    const hb = start(new Set([sending]), 1);
    hb.alive(sending);
    hb.step(); // round 1: pinged; no pong ever comes
    expect(sending.pings).toBe(1);
    markHeard(sending);
    clock += INTERVAL;
    hb.step(); // round 2: it spoke, so it lives, but nothing went its way: pinged again
    expect(sending.terminated).toBe(false);
    expect(sending.pings).toBe(2);
  });

  it('pings a socket that talks but leaves what it is sent unread, and ends it if the pong never comes', () => {
    const unread = new FakeSocket();
    const hb = start(new Set([unread]), 1);
    hb.alive(unread);
    unread.bufferedAmount = 64 * 1024;
    markHeard(unread);
    markSpoke(unread);
    hb.step();
    expect(unread.pings).toBe(1);
    clock += INTERVAL;
    hb.step(); // no frame from it, no pong
    expect(unread.terminated).toBe(true);
  });

  it('never counts frames sent to a peer as a sign of life', () => {
    const deaf = new FakeSocket();
    const hb = start(new Set([deaf]), 1);
    hb.alive(deaf);
    hb.step(); // pinged; no pong
    markSpoke(deaf); // frames relayed to it meanwhile
    clock += INTERVAL;
    hb.step();
    expect(deaf.terminated).toBe(true);
  });

  it('skips sockets that closed meanwhile and picks up new ones at the next round', () => {
    const gone = new FakeSocket();
    const sockets = new Set([gone]);
    const hb = start(sockets, 1);
    gone.readyState = 3;
    hb.step();
    expect(gone.pings).toBe(0);
    const late = new FakeSocket();
    sockets.add(late);
    hb.alive(late);
    clock += INTERVAL;
    hb.step();
    expect(late.pings).toBe(1);
    expect(late.terminated).toBe(false);
  });

  it('starts a round no sooner than an interval after the last, however few the sockets', () => {
    // Two sockets over 300 steps: the round is over after two steps, but the next waits.
    const sockets = new Set([new FakeSocket(), new FakeSocket()]);
    const hb = start(sockets, 300);
    for (const s of sockets) hb.alive(s);
    const began = clock;
    for (let i = 0; i < 300; i++) {
      hb.step();
      clock += INTERVAL / 300 - 1;
    }
    // A late pong (after 299 of the 300 steps) still counts.
    for (const s of sockets) hb.alive(s);
    expect([...sockets].map((s) => s.pings)).toEqual([1, 1]);
    clock = began + INTERVAL;
    hb.step();
    hb.step();
    expect([...sockets].map((s) => [s.pings, s.terminated])).toEqual([[2, false], [2, false]]);
  });
});
