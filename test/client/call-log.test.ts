// Issue #16: every ended call leaves a line, worded for the side that reads it.
import { describe, expect, it } from 'vitest';
import { callLine, formatDuration, outcomeOf } from '../../src/client/calls/call-log.ts';

describe('call log lines (issue #16)', () => {
  it('formats durations as a clock', () => {
    expect([0, 7_400, 151_000, 3_723_000].map(formatDuration)).toEqual(['0:00', '0:07', '2:31', '1:02:03']);
  });

  it('says how a call ended, for the caller and for the callee', () => {
    const line = (reason: Parameters<typeof outcomeOf>[0], role: 'caller' | 'callee', media: 'voice' | 'video', ms = 0) =>
      callLine({ media, outcome: outcomeOf(reason, role, ms), durationMs: ms }, role === 'caller' ? 'out' : 'in', 'bob');
    expect(line('hung-up', 'caller', 'voice', 151_000)).toBe('Voice call · 2:31');
    expect(line('left', 'callee', 'video', 12_000)).toBe('Video call · 0:12');
    expect(line('no-answer', 'caller', 'voice')).toBe('Voice call · No answer');
    expect(line('no-answer', 'callee', 'video')).toBe('Missed video call');
    expect(line('cancelled', 'callee', 'voice')).toBe('Missed voice call');
    expect(line('hung-up', 'caller', 'voice')).toBe('Voice call · Cancelled');
    expect(line('hung-up', 'callee', 'voice')).toBe('Declined voice call');
    expect(line('declined', 'caller', 'video')).toBe('Video call · Declined');
    expect(line('busy', 'caller', 'voice')).toBe('Voice call · bob was busy');
    expect(line('unavailable', 'caller', 'voice')).toBe('Voice call · bob was not reachable');
    expect(line('intercepted', 'caller', 'video')).toBe('Video call · Ended: the connection was not secure');
    expect(line('failed', 'caller', 'voice', 62_000)).toBe('Voice call · 1:02 · connection lost');
    expect(line('no-path', 'callee', 'voice')).toBe('Voice call · Could not connect');
    expect(callLine({ media: 'voice', outcome: 'busy', durationMs: 0 }, 'in', 'alice')).toBe('Missed voice call · you were in another call');
  });
});
