// Issue #7: what a call shows and does as its connection comes, goes and comes back, on a
// fake clock. The watch is told the peer connection's states and answers with path states,
// ICE restarts and, when no path turns up within NO_PATH_MS, giving up.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConnectionWatch,
  DISCONNECT_GRACE_MS,
  NO_PATH_MS,
  PATH_POLL_MS,
  RESTART_MIN_GAP_MS,
  RESTART_RETRY_MS,
  type GiveUpReason,
  type PathState,
} from '../../src/client/messaging/connection-watch.ts';
import type { PathKind } from '../../src/client/transport/selected-path.ts';

function harness(initialPath: PathKind | undefined = 'direct') {
  const log = { states: [] as PathState[], restarts: 0, gaveUp: [] as GiveUpReason[], path: initialPath };
  const watch = new ConnectionWatch({
    path: async () => log.path,
    restart: () => log.restarts++,
    changed: (s) => log.states.push(s),
    giveUp: (r) => log.gaveUp.push(r),
  });
  return { watch, log };
}

const advance = (ms: number) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('connection watch (issue #7)', () => {
  it('shows direct or relayed from the selected pair once connected, and follows a change of pair', async () => {
    const { watch, log } = harness('relayed');
    watch.start();
    watch.connectionState('connecting');
    await advance(500);
    expect(log.states).toEqual([]);
    watch.connectionState('connected');
    await advance(0);
    expect(log.states).toEqual(['relayed']);
    log.path = 'direct';
    await advance(PATH_POLL_MS);
    expect(log.states).toEqual(['relayed', 'direct']);
    // Connected in time: no giving up later.
    await advance(NO_PATH_MS * 2);
    expect(log.gaveUp).toEqual([]);
    watch.stop();
  });

  it('gives up when no path is found within NO_PATH_MS, under 15 seconds', async () => {
    expect(NO_PATH_MS).toBeLessThan(15_000);
    const { watch, log } = harness();
    watch.start();
    watch.connectionState('connecting');
    await advance(NO_PATH_MS - 1);
    expect(log.gaveUp).toEqual([]);
    await advance(1);
    expect(log.gaveUp).toEqual(['no-path']);
  });

  it('tries one ICE restart when every pair failed before any connected, within the same deadline', async () => {
    const { watch, log } = harness();
    watch.start();
    await advance(5_000);
    watch.connectionState('failed');
    await advance(0);
    expect(log.restarts).toBe(1);
    await advance(NO_PATH_MS - 5_000);
    expect(log.gaveUp).toEqual(['no-path']);
    expect(log.restarts).toBe(1);
  });

  it('waits out a short disconnection without restarting', async () => {
    const { watch, log } = harness();
    watch.start();
    watch.connectionState('connected');
    await advance(0);
    watch.connectionState('disconnected');
    expect(log.states).toEqual(['direct', 'reconnecting']);
    await advance(DISCONNECT_GRACE_MS - 500);
    watch.connectionState('connected');
    await advance(DISCONNECT_GRACE_MS);
    expect(log.restarts).toBe(0);
    expect(log.states).toEqual(['direct', 'reconnecting', 'direct']);
  });

  it('restarts ICE after the grace period, again every few seconds, and gives up if the path stays lost', async () => {
    const { watch, log } = harness();
    watch.start();
    watch.connectionState('connected');
    await advance(0);
    watch.connectionState('disconnected');
    await advance(DISCONNECT_GRACE_MS);
    expect(log.restarts).toBe(1);
    await advance(RESTART_RETRY_MS);
    expect(log.restarts).toBe(2);
    await advance(NO_PATH_MS - DISCONNECT_GRACE_MS - RESTART_RETRY_MS);
    expect(log.gaveUp).toEqual(['lost']);
    const restarts = log.restarts;
    await advance(RESTART_RETRY_MS * 3);
    expect(log.restarts).toBe(restarts); // stopped means stopped
  });

  it('restarts at once when the connection fails, and recovers when a new path is found', async () => {
    const { watch, log } = harness('direct');
    watch.start();
    watch.connectionState('connected');
    await advance(0);
    watch.connectionState('failed');
    await advance(0);
    expect(log.restarts).toBe(1);
    log.path = 'relayed';
    watch.connectionState('connected');
    await advance(0);
    expect(log.states).toEqual(['direct', 'reconnecting', 'relayed']);
    await advance(NO_PATH_MS * 2);
    expect(log.gaveUp).toEqual([]);
    expect(log.restarts).toBe(1);
    watch.stop();
  });

  it('restarts a working connection when the network changes, merging bursts of events', async () => {
    const { watch, log } = harness();
    watch.start();
    watch.connectionState('connected');
    await advance(0);
    watch.networkChanged();
    watch.networkChanged();
    await advance(0);
    expect(log.restarts).toBe(1);
    watch.networkChanged();
    await advance(RESTART_MIN_GAP_MS);
    expect(log.restarts).toBe(2);
    watch.stop();
  });

  it('restarts when the contact asks for it (caller side)', async () => {
    const { watch, log } = harness();
    watch.start();
    watch.connectionState('connected');
    await advance(0);
    watch.restartRequested();
    await advance(0);
    expect(log.restarts).toBe(1);
    watch.stop();
  });

  it('does nothing on a network change before the attempt began, or after stopping', async () => {
    const { watch, log } = harness();
    watch.networkChanged();
    await advance(RESTART_MIN_GAP_MS);
    expect(log.restarts).toBe(0);
    watch.start();
    watch.stop();
    watch.connectionState('failed');
    watch.networkChanged();
    await advance(NO_PATH_MS * 2);
    expect(log).toMatchObject({ restarts: 0, gaveUp: [], states: [] });
  });
});
