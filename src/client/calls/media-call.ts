// One voice or video call with one contact, from the first ring to the line it leaves in the
// log (DESIGN.md "Calls (v2)", issue #16). It rings (45 s, then missed) and connects on a
// connection of its own whose DTLS fingerprints are bound to both identities inside the
// ratchet: the offer and the answer each carry, sealed by their sender, the fingerprint their
// SDP must name and the secret of the sender's frame key. The callee checks the offer's before
// it rings, the caller the answer's before it attaches a track, and a renegotiation that names
// another fingerprint is refused (bound-connection.ts). DTLS then connects only to the holder of
// the certificate the other person sealed, so media may flow as soon as it connects; once the
// channel is up both sides also confirm what they see (the channel binding), and a mismatch
// there ends the call too. Frames are sealed with keys from the ratchet where both browsers can
// (frame-crypto.ts). Knows nothing of the outbox, history or UI.
import { decodeBase64url, encodeBase64url, type CallMedia, type Payload, type SignalData } from '../../wire/index.ts';
import { BoundConnection, type ConnectionEnd } from '../messaging/bound-connection.ts';
import { fingerprintOf } from '../messaging/channel-binding.ts';
import type { IceConfig } from '../messaging/ice-source.ts';
import { NO_ICE } from '../messaging/ice-source.ts';
import { QualityMeter, sampleOf } from './call-quality.ts';
import { endText, type CallView, type EndReason } from './call-types.ts';
import { FrameCrypto, frameCryptoSupported } from './frame-crypto.ts';
import { acquireCamera, acquireLocalMedia, deviceNotice, type GetUserMedia, type LocalMedia } from './local-media.ts';
import { RingTone } from './ring-tone.ts';

export const RING_TIMEOUT_MS = 45_000;
const QUALITY_POLL_MS = 2_000;

export interface MediaCallDeps {
  /** STUN/TURN servers with a fresh credential; undefined if the server cannot be asked. */
  ice(): Promise<IceConfig | undefined>;
  /** A signal for this call to the contact; false if there is no server to carry it. */
  sendSignal(data: SignalData): boolean;
  /** Seals a payload for the contact through the ratchet; throws if sending is blocked. */
  seal(payload: Payload): Promise<Uint8Array>;
  blocked(): boolean;
  /** An envelope from the call's own channel: open it and hand its payload back through onControl. */
  envelope(bytes: Uint8Array): void;
  /** Opens a sealed payload that came with a signal (the answer's acceptance); undefined if it does not open. */
  openSealed(bytes: Uint8Array): Promise<Payload | undefined>;
  changed(view: CallView): void;
  /** The call is over; `durationMs` of media. */
  ended(view: CallView, durationMs: number): void;
  getUserMedia?: GetUserMedia;
  getDisplayMedia?: () => Promise<MediaStream>;
}

export interface CallSetup {
  id: string;
  peer: string;
  role: 'caller' | 'callee';
  media: CallMedia;
  /** Relay-only ICE (someone who is not a mutual contact, or the caller asked for it). */
  relay: boolean;
}

function hasTurn(ice: IceConfig): boolean {
  return ice.servers.some((s) => [s.urls].flat().some((u) => /^turns?:/i.test(u)));
}

/** VP8 first (and only), with its retransmission and FEC codecs: the clear bytes of sealed frames are VP8's. */
function preferVp8(transceiver: RTCRtpTransceiver): void {
  const codecs = RTCRtpReceiver.getCapabilities?.('video')?.codecs;
  if (!codecs || typeof transceiver.setCodecPreferences !== 'function') return;
  const vp8 = codecs.filter((c) => c.mimeType.toLowerCase() === 'video/vp8');
  const helpers = codecs.filter((c) => /\/(rtx|red|ulpfec|flexfec-03)$/i.test(c.mimeType));
  if (vp8.length) transceiver.setCodecPreferences([...vp8, ...helpers]);
}

export class MediaCall {
  private view: CallView;
  private conn: BoundConnection | undefined;
  private readonly crypto: FrameCrypto | undefined;
  private local: LocalMedia = { audio: undefined, video: undefined, problems: [] };
  /** The microphone and camera, asked for on the click and opened while the call connects. */
  private localReady: Promise<void> = Promise.resolve();
  private screen: MediaStreamTrack | undefined;
  private pendingOffer: string | undefined;
  private readonly earlySignals: SignalData[] = [];
  /** The callee's connection, made while it rings (or why it could not be). */
  private prepared: Promise<BoundConnection | 'no-relay' | 'failed' | undefined> | undefined;
  /** Seals what goes with our first offer or answer, given that description's fingerprint. */
  private sealFirst: ((fingerprint: string) => Promise<Uint8Array>) | undefined;
  /** Signals made while the first description's seal is being made: they must not overtake it. */
  private held: SignalData[] | undefined;
  private firstSent = false;
  private answered = false;
  private ringTimer: ReturnType<typeof setTimeout> | undefined;
  private qualityTimer: ReturnType<typeof setInterval> | undefined;
  private readonly meter = new QualityMeter();
  private readonly tone = new RingTone();
  /** The other side's frame key secret, as its sealed invite or acceptance gave it (null: it cannot seal frames). */
  private peerFrameKey: string | null = null;
  /** Our tracks are attached: the other side's fingerprint was checked inside the ratchet. */
  private sending = false;
  private connected = false;

  constructor(
    setup: CallSetup,
    private readonly deps: MediaCallDeps,
  ) {
    this.view = {
      id: setup.id,
      peer: setup.peer,
      role: setup.role,
      media: setup.media,
      phase: setup.role === 'caller' ? 'calling' : 'incoming',
      startedAt: null,
      path: 'connecting',
      relayOnly: setup.relay,
      frameCrypto: false,
      muted: false,
      camera: false,
      sharing: false,
      peerMuted: false,
      peerCamera: setup.media === 'video',
      peerSharing: false,
      poor: false,
      localVideo: null,
      remoteAudio: null,
      remoteVideo: null,
      deviceNotice: null,
    };
    this.crypto = frameCryptoSupported() ? new FrameCrypto(setup.id) : undefined;
  }

  get snapshot(): CallView {
    return this.view;
  }

  get isOver(): boolean {
    return this.view.phase === 'ended';
  }

  // ---- caller

  /**
   * Rings the contact: `sealInvite` seals the invitation that travels with the offer, naming
   * its fingerprint and our frame key's secret (null where this browser cannot seal frames).
   */
  async dial(sealInvite: (frameKey: string | null, fingerprint: string) => Promise<Uint8Array>): Promise<void> {
    this.tone.start('ringback');
    this.openLocal();
    const ice = (await this.deps.ice()) ?? NO_ICE;
    if (this.isOver) return;
    if (this.view.relayOnly && !hasTurn(ice)) return this.end('no-relay');
    this.sealFirst = (fingerprint) => sealInvite(this.crypto?.secret ?? null, fingerprint);
    this.conn = this.makeConnection('caller');
    this.arm(RING_TIMEOUT_MS, 'no-answer');
    await this.conn.start(ice).catch(() => this.end('failed'));
  }

  // ---- callee

  /**
   * An offer whose sealed invite named this call and its fingerprint: ring. While it rings, the
   * servers are fetched, the offer applied and answered, and the acceptance sealed, all without
   * sending anything, so that accepting has little left to do. `sealAccept` seals the
   * acceptance that travels with the answer: its fingerprint, and our frame key's secret (null
   * unless both browsers can seal frames).
   */
  ring(offerSdp: string, frameKey: string | null, sealAccept: (frameKey: string | null, fingerprint: string) => Promise<Uint8Array>): void {
    this.pendingOffer = offerSdp;
    this.peerFrameKey = frameKey;
    this.tone.start('ring');
    this.arm(RING_TIMEOUT_MS, 'no-answer');
    const sealing = Boolean(this.crypto && frameKey);
    this.prepared = (async () => {
      const ice = (await this.deps.ice()) ?? NO_ICE;
      if (this.isOver) return undefined;
      if (this.view.relayOnly && !hasTurn(ice)) return 'no-relay' as const;
      const conn = this.makeConnection('callee');
      this.conn = conn;
      for (const s of this.earlySignals.splice(0)) await conn.handleSignal(s);
      const fingerprint = fingerprintOf(await conn.prepareAnswer(offerSdp, ice));
      if (!fingerprint) return 'failed' as const;
      const sealed = sealAccept(sealing ? this.crypto!.secret : null, fingerprint);
      this.sealFirst = () => sealed;
      await sealed;
      return conn;
    })().catch(() => 'failed' as const);
  }

  async accept(): Promise<void> {
    if (this.view.phase !== 'incoming' || !this.pendingOffer) return;
    const sealing = Boolean(this.crypto && this.peerFrameKey);
    clearTimeout(this.ringTimer);
    this.tone.stop();
    this.update({ phase: 'connecting' });
    this.openLocal();
    const conn = await this.prepared;
    if (this.isOver) return;
    if (conn === 'no-relay' || conn === 'failed' || !conn) {
      this.deps.sendSignal({ kind: 'hangup' });
      return this.end(conn === 'no-relay' ? 'no-relay' : 'failed');
    }
    try {
      await conn.commitAnswer();
      // The offer's fingerprint was checked against the caller's seal before it rang here.
      await this.startSending(sealing ? this.peerFrameKey : null);
    } catch {
      this.end('failed');
    }
  }

  decline(): void {
    if (this.view.phase !== 'incoming') return;
    this.deps.sendSignal({ kind: 'decline', reason: 'declined' });
    this.end('hung-up');
  }

  // ---- both

  hangup(): void {
    if (this.isOver) return;
    if (this.conn?.channel && !this.deps.blocked()) this.conn.close(true);
    else this.deps.sendSignal({ kind: 'hangup' });
    this.end('hung-up');
  }

  async handleSignal(data: SignalData): Promise<void> {
    if (this.isOver) return;
    switch (data.kind) {
      case 'hangup':
        if (data.reason === 'answered' && this.view.phase === 'incoming') return this.end('answered-elsewhere');
        return this.end(this.view.phase === 'incoming' ? 'cancelled' : 'left');
      case 'decline':
        return this.end(data.reason === 'busy' ? 'busy' : data.reason === 'mismatch' ? 'intercepted' : 'declined');
      case 'answer':
        if (this.view.role !== 'caller') return;
        if (this.answered) return this.conn?.handleSignal(data);
        return this.firstAnswer(data);
      default:
        if (this.conn) return this.conn.handleSignal(data);
        if (data.kind === 'ice') this.earlySignals.push(data);
    }
  }

  /** The server could not deliver our offer: the contact is offline, or does not take our calls. */
  unreachable(): void {
    if (this.view.phase === 'calling') this.end('unavailable');
  }

  networkChanged(): void {
    this.conn?.networkChanged();
  }

  /** A payload from this call's own channel. */
  onControl(p: Payload): void {
    if (this.isOver) return;
    switch (p.type) {
      case 'binding':
        return this.conn?.onBinding(p);
      case 'bye':
        return this.conn?.onBye(p);
      case 'call-state':
        if (p.callId !== this.view.id) return;
        this.update({ peerMuted: p.muted, peerCamera: p.camera, peerSharing: p.screen });
        return;
      default:
        return;
    }
  }

  /** A new safety number was accepted: bind now. */
  async unblocked(): Promise<void> {
    await this.conn?.unblocked();
  }

  toggleMute(): void {
    const muted = !this.view.muted;
    if (this.local.audio) this.local.audio.enabled = !muted;
    this.update({ muted });
    void this.sendState();
  }

  async toggleCamera(): Promise<void> {
    if (this.isOver) return;
    if (this.view.camera) {
      this.local.video?.stop();
      this.local.video = undefined;
      if (!this.screen) await this.sendVideo(null);
      this.update({ camera: false });
      this.showLocal();
    } else {
      const got = await acquireCamera(this.deps.getUserMedia);
      if (this.isOver) {
        if (!('failure' in got)) got.stop();
        return;
      }
      if ('failure' in got) {
        this.update({ deviceNotice: deviceNotice([got], this.view.peer, { audio: Boolean(this.local.audio), video: false }, this.view.media) ?? null });
        return;
      }
      this.local.video = got;
      if (!this.screen) await this.sendVideo(got);
      this.update({ camera: true, deviceNotice: null });
      this.showLocal();
    }
    void this.sendState();
  }

  async toggleScreen(): Promise<void> {
    if (this.isOver) return;
    if (this.screen) return this.stopSharing();
    const getDisplay = this.deps.getDisplayMedia ?? (navigator.mediaDevices?.getDisplayMedia ? () => navigator.mediaDevices.getDisplayMedia({ video: true, audio: false }) : undefined);
    if (!getDisplay) {
      this.update({ deviceNotice: 'This browser cannot share its screen.' });
      return;
    }
    let track: MediaStreamTrack | undefined;
    try {
      track = (await getDisplay()).getVideoTracks()[0];
    } catch {
      // The person chose not to share, or the browser refused: nothing to say beyond the button.
      return;
    }
    if (!track || this.isOver) {
      track?.stop();
      return;
    }
    this.screen = track;
    track.addEventListener('ended', () => void this.stopSharing());
    await this.sendVideo(track);
    this.update({ sharing: true });
    this.showLocal();
    void this.sendState();
  }

  // ---- internals

  /**
   * The callee's answer must carry, sealed by the callee, the very fingerprint its SDP names;
   * anything else means the answer was changed on the way, and the call ends before a packet of
   * ours. The answer is applied while its seal is opened (ICE and DTLS take longer than that);
   * our tracks wait for the check.
   */
  private async firstAnswer(data: Extract<SignalData, { kind: 'answer' }>): Promise<void> {
    this.answered = true;
    clearTimeout(this.ringTimer);
    this.tone.stop();
    this.update({ phase: 'connecting' });
    const sealed = data.sealed ? decodeBase64url(data.sealed) : undefined;
    const [accepted] = await Promise.all([sealed ? this.deps.openSealed(sealed) : undefined, this.conn?.handleSignal({ kind: 'answer', sdp: data.sdp })]);
    if (this.isOver) return;
    const fingerprint = fingerprintOf(data.sdp);
    if (accepted?.type !== 'call-accept' || accepted.callId !== this.view.id || !fingerprint || accepted.fingerprint !== fingerprint) {
      this.deps.sendSignal({ kind: 'decline', reason: 'mismatch' });
      return this.end('intercepted');
    }
    await this.startSending(this.crypto ? accepted.frameKey : null);
  }

  /**
   * Keys for the frames both ways (sealed both ways only if both sides sent a secret, plain
   * otherwise), then our tracks. Called once the other side's fingerprint has been checked.
   */
  private async startSending(peerFrameKey: string | null): Promise<void> {
    if (this.sending || this.isOver) return;
    this.sending = true;
    const sealed = this.crypto !== undefined && peerFrameKey !== null;
    if (this.crypto) {
      await this.crypto.openIncoming(sealed ? peerFrameKey : null);
      await this.crypto.sealOutgoing(sealed);
    }
    await this.localReady;
    if (this.isOver) return;
    if (this.local.audio) this.local.audio.enabled = !this.view.muted;
    const link = this.conn?.peerLink;
    await link?.transceiver('audio')?.sender.replaceTrack(this.local.audio ?? null);
    await link?.transceiver('video')?.sender.replaceTrack(this.screen ?? this.local.video ?? null);
    if (this.isOver) return;
    this.update({ frameCrypto: sealed });
    this.maybeOpen();
  }

  /** Media flows once we send and the connection is up: the duration counts from here. */
  private maybeOpen(): void {
    if (!this.sending || !this.connected || this.view.phase === 'open' || this.isOver) return;
    this.update({ phase: 'open', startedAt: Date.now() });
    this.qualityTimer = setInterval(() => void this.readQuality(), QUALITY_POLL_MS);
  }

  /**
   * Our first offer or answer goes out with its seal, made from its own fingerprint; what the
   * connection signals meanwhile (ICE candidates) waits behind it.
   */
  private send(data: SignalData): void {
    if (this.held) {
      this.held.push(data);
      return;
    }
    const first = (data.kind === 'offer' || data.kind === 'answer') && !this.firstSent && this.sealFirst;
    if (!first) {
      this.deps.sendSignal(data);
      return;
    }
    this.firstSent = true;
    this.held = [];
    const fingerprint = fingerprintOf(data.sdp);
    void (async () => {
      if (!fingerprint) throw new Error('no fingerprint');
      const sealed = encodeBase64url(await this.sealFirst!(fingerprint));
      if (this.isOver) return;
      if (!this.deps.sendSignal({ ...data, sealed })) return this.end('unavailable');
      for (const s of this.held!.splice(0)) this.deps.sendSignal(s);
      this.held = undefined;
    })().catch(() => this.end('not-sent'));
  }

  private async stopSharing(): Promise<void> {
    const track = this.screen;
    if (!track) return;
    this.screen = undefined;
    track.stop();
    if (this.isOver) return;
    await this.sendVideo(this.local.video ?? null);
    this.update({ sharing: false });
    this.showLocal();
    void this.sendState();
  }

  private makeConnection(role: 'caller' | 'callee'): BoundConnection {
    return new BoundConnection(
      role,
      {
        policy: this.view.relayOnly ? 'relay' : 'all',
        media: true,
        prepareTransceiver: (t, kind) => {
          if (!this.crypto) return;
          if (kind === 'video') preferVp8(t);
          this.crypto.attach(t, kind);
        },
      },
      {
        ice: () => this.deps.ice(),
        sendSignal: (data) => this.send(data),
        seal: (p) => this.deps.seal(p),
        blocked: () => this.deps.blocked(),
        message: (bytes) => this.deps.envelope(bytes),
        opened: () => void this.sendState(),
        connected: () => {
          this.connected = true;
          this.maybeOpen();
        },
        bound: () => undefined,
        pathChanged: (path) => this.update({ path }),
        ended: (reason) => this.connectionEnded(reason),
        track: (track) => this.remoteTrack(track),
      },
    );
  }

  private async sendVideo(track: MediaStreamTrack | null): Promise<void> {
    if (!this.sending) return; // attached when sending starts
    await this.conn?.peerLink?.transceiver('video')?.sender.replaceTrack(track).catch(() => undefined);
  }

  private async sendState(): Promise<void> {
    const conn = this.conn;
    if (!conn?.channel || this.isOver) return;
    await conn
      .sendOnChannel({ type: 'call-state', callId: this.view.id, muted: this.view.muted, camera: this.view.camera, screen: this.view.sharing })
      .catch(() => undefined);
  }

  private remoteTrack(track: MediaStreamTrack): void {
    if (track.kind === 'audio') this.update({ remoteAudio: new MediaStream([track]) });
    else if (track.kind === 'video') this.update({ remoteVideo: new MediaStream([track]) });
  }

  /**
   * Opens the devices without waiting for them: the connection is made meanwhile (opening a
   * microphone takes longer than offering or answering), and the tracks are attached after.
   */
  private openLocal(): void {
    this.localReady = acquireLocalMedia(this.view.media, this.deps.getUserMedia).then((m) => {
      this.local = m;
      if (this.isOver) return this.releaseLocal();
      this.showLocal();
      // The other side may have heard our state before the devices were open.
      void this.sendState();
    });
  }

  private showLocal(): void {
    const track = this.screen ?? this.local.video;
    const notice = deviceNotice(this.local.problems, this.view.peer, { audio: Boolean(this.local.audio), video: Boolean(this.local.video) }, this.view.media);
    this.local.problems = [];
    this.update({
      localVideo: track ? new MediaStream([track]) : null,
      camera: Boolean(this.local.video),
      ...(notice ? { deviceNotice: notice } : {}),
    });
  }

  private async readQuality(): Promise<void> {
    const stats = await this.conn?.peerLink?.stats()?.catch(() => undefined);
    if (!stats || this.isOver) return;
    const poor = this.meter.push(sampleOf(stats, Date.now()), this.view.peerCamera || this.view.peerSharing);
    if (poor !== this.view.poor) this.update({ poor });
  }

  private connectionEnded(reason: ConnectionEnd): void {
    if (this.isOver) return;
    switch (reason) {
      case 'closed':
        return this.end('hung-up');
      case 'left':
        return this.end('left');
      case 'intercepted':
        // Tell the other side why (through the server, which may lie; its own checks stand anyway).
        this.deps.sendSignal({ kind: 'decline', reason: 'mismatch' });
        return this.end('intercepted');
      case 'no-path':
        return this.end(this.view.phase === 'open' ? 'failed' : 'no-path');
      case 'failed':
        return this.end('failed');
    }
  }

  private arm(ms: number, reason: EndReason): void {
    clearTimeout(this.ringTimer);
    this.ringTimer = setTimeout(() => {
      if (this.isOver || this.view.phase === 'open' || this.view.phase === 'connecting') return;
      if (this.view.role === 'caller') this.deps.sendSignal({ kind: 'hangup' });
      this.end(reason);
    }, ms);
  }

  private releaseLocal(): void {
    this.local.audio?.stop();
    this.local.video?.stop();
    this.screen?.stop();
  }

  private end(reason: EndReason): void {
    if (this.isOver) return;
    clearTimeout(this.ringTimer);
    clearInterval(this.qualityTimer);
    this.tone.stop();
    this.conn?.close();
    this.crypto?.close();
    this.releaseLocal();
    const durationMs = this.view.startedAt ? Date.now() - this.view.startedAt : 0;
    this.update({ phase: 'ended', ended: { reason, text: endText(reason, this.view.peer) }, localVideo: null, poor: false });
    this.deps.ended(this.view, durationMs);
  }

  private update(patch: Partial<CallView>): void {
    this.view = { ...this.view, ...patch };
    this.deps.changed(this.view);
  }
}
