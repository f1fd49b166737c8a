// The microphone and camera for a call, and plain words for what went wrong with either. A
// call never fails silently for want of a device: it goes on with what is there (voice
// without a camera, or listening only) and says which device, and why (getUserMedia's errors,
// W3C Media Capture and Streams §10.2: NotAllowedError, NotFoundError, NotReadableError, …).

export type Device = 'microphone' | 'camera';
export type DeviceFailure = 'denied' | 'missing' | 'busy' | 'failed';

export interface DeviceProblem {
  device: Device;
  failure: DeviceFailure;
}

export interface LocalMedia {
  audio: MediaStreamTrack | undefined;
  video: MediaStreamTrack | undefined;
  problems: DeviceProblem[];
}

export type GetUserMedia = (constraints: MediaStreamConstraints) => Promise<MediaStream>;

export const VIDEO_CONSTRAINTS: MediaTrackConstraints = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } };
export const AUDIO_CONSTRAINTS: MediaTrackConstraints = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export function failureOf(e: unknown): DeviceFailure {
  const name = e instanceof Error || (typeof e === 'object' && e !== null && 'name' in e) ? String((e as { name: unknown }).name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'missing';
    case 'NotReadableError':
    case 'AbortError':
      return 'busy';
    default:
      return 'failed';
  }
}

function defaultGetUserMedia(): GetUserMedia | undefined {
  const devices = typeof navigator === 'undefined' ? undefined : navigator.mediaDevices;
  return devices?.getUserMedia ? (c) => devices.getUserMedia(c) : undefined;
}

async function one(gum: GetUserMedia, device: Device): Promise<MediaStreamTrack | DeviceProblem> {
  try {
    const stream = await gum(device === 'microphone' ? { audio: AUDIO_CONSTRAINTS } : { video: VIDEO_CONSTRAINTS });
    const track = device === 'microphone' ? stream.getAudioTracks()[0] : stream.getVideoTracks()[0];
    return track ?? { device, failure: 'missing' };
  } catch (e) {
    return { device, failure: failureOf(e) };
  }
}

/**
 * The tracks a call of `media` wants. Asked for together first (one permission prompt); if
 * that fails, each alone, so one refused or missing device does not take the other with it.
 */
export async function acquireLocalMedia(media: 'voice' | 'video', gum: GetUserMedia | undefined = defaultGetUserMedia()): Promise<LocalMedia> {
  const wanted: Device[] = media === 'video' ? ['microphone', 'camera'] : ['microphone'];
  if (!gum) return { audio: undefined, video: undefined, problems: wanted.map((device) => ({ device, failure: 'missing' })) };
  if (media === 'video') {
    try {
      const stream = await gum({ audio: AUDIO_CONSTRAINTS, video: VIDEO_CONSTRAINTS });
      const audio = stream.getAudioTracks()[0];
      const video = stream.getVideoTracks()[0];
      if (audio && video) return { audio, video, problems: [] };
      for (const t of stream.getTracks()) t.stop();
    } catch {
      // One of the two failed; find out which.
    }
  }
  const results = await Promise.all(wanted.map((d) => one(gum, d)));
  const out: LocalMedia = { audio: undefined, video: undefined, problems: [] };
  results.forEach((r, i) => {
    if ('failure' in r) out.problems.push(r);
    else if (wanted[i] === 'microphone') out.audio = r;
    else out.video = r;
  });
  return out;
}

/** A camera track on its own (turning the camera back on). */
export async function acquireCamera(gum: GetUserMedia | undefined = defaultGetUserMedia()): Promise<MediaStreamTrack | DeviceProblem> {
  if (!gum) return { device: 'camera', failure: 'missing' };
  return one(gum, 'camera');
}

function what(p: DeviceProblem): string {
  const device = p.device === 'microphone' ? 'microphone' : 'camera';
  switch (p.failure) {
    case 'denied':
      return `Parley is not allowed to use your ${device}. Allow it in your browser's site settings`;
    case 'missing':
      return `No ${device} was found`;
    case 'busy':
      return `Your ${device} is in use by another app, or could not be started`;
    case 'failed':
      return `Your ${device} could not be started`;
  }
}

/**
 * One notice for everything that went wrong, ending with how the call goes on, or undefined
 * when nothing did. `peer` is the person on the other end.
 */
export function deviceNotice(problems: readonly DeviceProblem[], peer: string, has: { audio: boolean; video: boolean }, media: 'voice' | 'video' = 'video'): string | undefined {
  if (problems.length === 0) return undefined;
  const causes = problems.map(what).join('. ');
  let consequence: string;
  if (!has.audio && !has.video && media === 'video') consequence = `The call goes on, but ${peer} can neither hear nor see you.`;
  else if (!has.audio) consequence = `The call goes on, but ${peer} cannot hear you.`;
  else if (problems.some((p) => p.device === 'camera')) consequence = 'The call goes on with voice only.';
  else consequence = 'The call goes on.';
  return `${causes}. ${consequence}`;
}
