// Issue #16: a refused, missing or busy camera or microphone is named, and the call goes on
// with what there is.
import { describe, expect, it } from 'vitest';
import { acquireLocalMedia, deviceNotice, failureOf, type GetUserMedia } from '../../src/client/calls/local-media.ts';

interface FakeTrack {
  kind: 'audio' | 'video';
  stopped: boolean;
  stop(): void;
}
const track = (kind: 'audio' | 'video'): FakeTrack => ({
  kind,
  stopped: false,
  stop() {
    this.stopped = true;
  },
});
const stream = (tracks: FakeTrack[]) =>
  ({ getAudioTracks: () => tracks.filter((t) => t.kind === 'audio'), getVideoTracks: () => tracks.filter((t) => t.kind === 'video'), getTracks: () => tracks }) as unknown as MediaStream;
const error = (name: string) => Object.assign(new Error(name), { name });

/** A getUserMedia whose microphone and camera each work or fail with the given error name. */
function devices(mic: string | null, camera: string | null): { gum: GetUserMedia; asked: MediaStreamConstraints[] } {
  const asked: MediaStreamConstraints[] = [];
  const gum: GetUserMedia = async (c) => {
    asked.push(c);
    if (c.audio && mic) throw error(mic);
    if (c.video && camera) throw error(camera);
    return stream([...(c.audio ? [track('audio')] : []), ...(c.video ? [track('video')] : [])]);
  };
  return { gum, asked };
}

describe('local media (issue #16)', () => {
  it('asks once for both when both work', async () => {
    const { gum, asked } = devices(null, null);
    const m = await acquireLocalMedia('video', gum);
    expect(asked.length).toBe(1);
    expect([m.audio?.kind, m.video?.kind, m.problems]).toEqual(['audio', 'video', []]);
    expect(deviceNotice(m.problems, 'bob', { audio: true, video: true })).toBeUndefined();
  });

  it('names each error as a person would', () => {
    expect(['NotAllowedError', 'SecurityError', 'NotFoundError', 'OverconstrainedError', 'NotReadableError', 'AbortError', 'TypeError'].map((n) => failureOf(error(n)))).toEqual([
      'denied',
      'denied',
      'missing',
      'missing',
      'busy',
      'busy',
      'failed',
    ]);
  });

  it('a refused camera: voice only, and says so', async () => {
    const m = await acquireLocalMedia('video', devices(null, 'NotAllowedError').gum);
    expect(m.audio).toBeDefined();
    expect(m.video).toBeUndefined();
    expect(m.problems).toEqual([{ device: 'camera', failure: 'denied' }]);
    expect(deviceNotice(m.problems, 'bob', { audio: true, video: false })).toBe(
      "Parley is not allowed to use your camera. Allow it in your browser's site settings. The call goes on with voice only.",
    );
  });

  it('a camera taken by another app, a missing microphone', async () => {
    const m = await acquireLocalMedia('video', devices('NotFoundError', 'NotReadableError').gum);
    expect(m.problems).toEqual([
      { device: 'microphone', failure: 'missing' },
      { device: 'camera', failure: 'busy' },
    ]);
    expect(deviceNotice(m.problems, 'bob', { audio: false, video: false })).toBe(
      'No microphone was found. Your camera is in use by another app, or could not be started. The call goes on, but bob can neither hear nor see you.',
    );
  });

  it('a voice call asks for the microphone only; refused, the call still goes on, and says bob cannot hear', async () => {
    const { gum, asked } = devices('NotAllowedError', null);
    const m = await acquireLocalMedia('voice', gum);
    expect(asked.every((c) => !c.video)).toBe(true);
    expect(deviceNotice(m.problems, 'bob', { audio: false, video: false }, 'voice')).toBe(
      "Parley is not allowed to use your microphone. Allow it in your browser's site settings. The call goes on, but bob cannot hear you.",
    );
  });

  it('a browser without getUserMedia reports both devices missing rather than failing', async () => {
    const m = await acquireLocalMedia('video', undefined);
    expect(m.problems.map((p) => p.failure)).toEqual(['missing', 'missing']);
  });
});
