// The call on now: who with, how long, which way the media goes (direct or relayed) and how
// well, the two videos, and the controls. Video elements carry the names "Video from <name>"
// and "Your camera"; the other side's sound plays from an audio element of its own.
import { useEffect, useRef, useState } from 'react';
import { formatDuration, type CallView, type ParleyClient } from '../messaging/parley-client.ts';

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [active]);
  return now;
}

function Media({ stream, label, kind, muted }: { stream: MediaStream | null; label: string; kind: 'video' | 'audio'; muted?: boolean }) {
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    if (el.srcObject !== stream) el.srcObject = stream;
    if (stream) void el.play().catch(() => undefined);
  }, [stream]);
  if (kind === 'audio') return <audio ref={ref} autoPlay aria-label={label} />;
  return <video ref={ref} autoPlay playsInline muted={muted} aria-label={label} className="call-video" />;
}

function phaseText(call: CallView, now: number): string {
  switch (call.phase) {
    case 'calling':
      return 'Ringing…';
    case 'incoming':
      return 'Incoming call';
    case 'connecting':
      return 'Connecting…';
    case 'open':
      return formatDuration(now - (call.startedAt ?? now));
    case 'ended':
      return call.ended?.text ?? 'Call ended';
  }
}

export function CallPanel({ client, call }: { client: ParleyClient; call: CallView }) {
  const now = useNow(call.phase === 'open');
  const video = call.media === 'video';
  const showRemoteVideo = video || call.peerSharing;
  const showLocalVideo = Boolean(call.localVideo);
  return (
    <section className={`call-panel ${video ? 'call-panel-video' : ''}`} aria-label={`Call with ${call.peer}`}>
      <header className="call-head">
        <div>
          <h2>{call.peer}</h2>
          <p className="call-duration" aria-label="Call duration">
            {phaseText(call, now)}
          </p>
        </div>
        <div className="call-lines">
          {call.phase === 'open' && (
            <p className="call-path">
              {call.path === 'reconnecting' ? 'reconnecting…' : call.path === 'connecting' ? 'connecting…' : call.path}
              {call.frameCrypto ? ' · frames end-to-end encrypted' : ' · end-to-end encrypted'}
            </p>
          )}
          {call.poor && (
            <p className="call-poor" role="status">
              Poor connection
            </p>
          )}
          {call.peerMuted && call.phase === 'open' && <p className="call-peer-muted">{call.peer} is muted</p>}
        </div>
      </header>
      {call.deviceNotice && (
        <p className="call-device" role="alert">
          {call.deviceNotice}
        </p>
      )}
      <div className="call-stage">
        {showRemoteVideo && (
          <div className="call-remote">
            <Media stream={call.remoteVideo} label={`Video from ${call.peer}`} kind="video" muted />
            {!call.peerCamera && !call.peerSharing && call.phase === 'open' && <p className="call-camera-off">{call.peer}'s camera is off</p>}
          </div>
        )}
        {!showRemoteVideo && (
          <div className="avatar avatar-call" aria-hidden="true">
            {call.peer.slice(0, 1).toUpperCase()}
          </div>
        )}
        {showLocalVideo && (
          <div className="call-local">
            <Media stream={call.localVideo} label="Your camera" kind="video" muted />
          </div>
        )}
        <Media stream={call.remoteAudio} label={`Sound from ${call.peer}`} kind="audio" />
      </div>
      <div className="call-controls">
        <button type="button" aria-pressed={call.muted} onClick={() => client.toggleMute()} disabled={call.phase === 'ended'}>
          {call.muted ? 'Unmute' : 'Mute'}
        </button>
        {video && (
          <button type="button" onClick={() => void client.toggleCamera()} disabled={call.phase === 'ended'}>
            {call.camera ? 'Turn camera off' : 'Turn camera on'}
          </button>
        )}
        <button type="button" onClick={() => void client.toggleScreen()} disabled={call.phase !== 'open'}>
          {call.sharing ? 'Stop sharing' : 'Share screen'}
        </button>
        <button type="button" className="danger" onClick={() => client.hangup()}>
          End call
        </button>
      </div>
    </section>
  );
}
