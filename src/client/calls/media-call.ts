// One voice or video call with one contact, from the first ring to the line it leaves in the
// log (DESIGN.md "Calls (v2)", issue #16). It rings (45 s, then missed) and connects on a
// connection of its own whose DTLS fingerprints are bound to both identities inside the
// ratchet twice over: the offer and the answer each carry, sealed, the fingerprint their SDP
// must have (a swap on the way ends the call before any packet), and once the channel is up
// both sides confirm what they see (bound-connection.ts). Only then does media flow: our tracks
// are attached once we have checked the other side's binding and it has sent its frame key,
// which it sends only after checking ours. Frames are sealed with keys from the ratchet where
// both browsers can (frame-crypto.ts). Knows nothing of the outbox, history or UI.
import { decodeBase64url, encodeBase64url, type CallMedia, type Payload, type SignalData } from '../../wire/index.ts';
import { BoundConnection, type ConnectionEnd } from '../messaging/bound-connection.ts';
import { fingerprintOf } from '../messaging/channel-binding.ts';
import type { IceConfig } from '../messaging/ice-source.ts';
import { NO_ICE, iceIsStale } from '../messaging/ice-source.ts';
import { QualityMeter, sampleOf } from './call-quality.ts';
import { endText, type CallView, type EndReason } from './call-types.ts';
import { FrameCrypto, frameCryptoSupported, type FrameCryptoCounters } from './frame-crypto.ts';
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
  private screen: MediaStreamTrack | undefined;
  private readonly remoteTracks: { audio?: MediaStreamTrack; video?: MediaStreamTrack } = {};
  private pendingOffer: string | undefined;
  private readonly earlySignals: SignalData[] = [];
  private icePrefetch: Promise<IceConfig | undefined> | undefined;
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
  private bound = false;
  private peerKey: string | null | undefined;
  private mediaStarted = false;

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

  /** Whether this browser seals frames (it offers to; the call seals them only if the other side can too). */
  get canSealFrames(): boolean {
    return this.crypto !== undefined;
  }

  /** The frame worker's counters (tests and the benchmark read them through the page). */
  frameCounters(): Promise<FrameCryptoCounters> | undefined {
    return this.crypto?.counters();
  }

  // ---- caller

  /** Rings the contact: `sealInvite` seals the invitation that travels with the offer, naming its fingerprint. */
  async dial(sealInvite: (frameCrypto: boolean, fingerprint: string) => Promise<Uint8Array>): Promise<void> {
    this.tone.start('ringback');
    this.local = await acquireLocalMedia(this.view.media, this.deps.getUserMedia);
    this.showLocal();
    if (this.isOver) return this.releaseLocal();
    const ice = (await this.deps.ice()) ?? NO_ICE;
    if (this.isOver) return;
    if (this.view.relayOnly && !hasTurn(ice)) return this.end('no-relay');
    this.sealFirst = (fingerprint) => sealInvite(this.crypto !== undefined, fingerprint);
    this.conn = this.makeConnection('caller');
    this.arm(RING_TIMEOUT_MS, 'no-answer');
    await this.conn.start(ice).catch(() => this.end('failed'));
  }

  // ---- callee

  /** An offer whose sealed invite named this call: ring. */
  ring(offerSdp: string): void {
    this.pendingOffer = offerSdp;
    this.tone.start('ring');
    this.arm(RING_TIMEOUT_MS, 'no-answer');
    // Fetched while it rings, so accepting does not wait for it.
    this.icePrefetch = this.deps.ice();
  }

  /** `sealAccept` seals the acceptance that travels with the answer, naming its fingerprint. */
  async accept(sealAccept: (fingerprint: string) => Promise<Uint8Array>): Promise<void> {
    if (this.view.phase !== 'incoming' || !this.pendingOffer) return;
    this.sealFirst = sealAccept;
    clearTimeout(this.ringTimer);
    this.tone.stop();
    this.update({ phase: 'connecting' });
    this.local = await acquireLocalMedia(this.view.media, this.deps.getUserMedia);
    this.showLocal();
    if (this.isOver) return this.releaseLocal();
    let ice = (await (this.icePrefetch ?? this.deps.ice())) ?? NO_ICE;
    if (iceIsStale(ice, Date.now())) ice = (await this.deps.ice()) ?? ice;
    if (this.isOver) return;
    if (this.view.relayOnly && !hasTurn(ice)) {
      this.deps.sendSignal({ kind: 'hangup' });
      return this.end('no-relay');
    }
    this.conn = this.makeConnection('callee');
    for (const s of this.earlySignals.splice(0)) await this.conn.handleSignal(s);
    await this.conn.answer(this.pendingOffer, ice).catch(() => this.end('failed'));
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
      case 'call-key':
        if (p.callId !== this.view.id || this.peerKey !== undefined) return;
        this.peerKey = p.secret;
        return void this.startMedia();
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
   * anything else means the answer was changed on the way, and the call ends before a packet.
   */
  private async firstAnswer(data: Extract<SignalData, { kind: 'answer' }>): Promise<void> {
    this.answered = true;
    const sealed = data.sealed ? decodeBase64url(data.sealed) : undefined;
    const accepted = sealed ? await this.deps.openSealed(sealed) : undefined;
    if (this.isOver) return;
    const fingerprint = fingerprintOf(data.sdp);
    if (accepted?.type !== 'call-accept' || accepted.callId !== this.view.id || !fingerprint || accepted.fingerprint !== fingerprint) {
      this.deps.sendSignal({ kind: 'decline', reason: 'mismatch' });
      return this.end('intercepted');
    }
    if (this.view.phase === 'calling') {
      clearTimeout(this.ringTimer);
      this.tone.stop();
      this.update({ phase: 'connecting' });
    }
    await this.conn?.handleSignal({ kind: 'answer', sdp: data.sdp });
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
        opened: () => undefined,
        bound: () => {
          this.bound = true;
          void this.afterBinding();
        },
        pathChanged: (path) => this.update({ path }),
        ended: (reason) => this.connectionEnded(reason),
        track: (track) => this.remoteTrack(track),
      },
    );
  }

  /** We checked their binding: our frame key (or that we cannot seal) and our state go to them. */
  private async afterBinding(): Promise<void> {
    const conn = this.conn;
    if (!conn || this.isOver) return;
    try {
      await conn.sendOnChannel({ type: 'call-key', callId: this.view.id, secret: this.crypto?.secret ?? null });
      await this.sendState();
    } catch {
      return;
    }
    await this.startMedia();
  }

  /** Both bindings are checked (theirs by us; ours by them, or they would not have sent a key): media may flow. */
  private async startMedia(): Promise<void> {
    if (!this.bound || this.peerKey === undefined || this.mediaStarted || this.isOver) return;
    this.mediaStarted = true;
    const both = this.crypto !== undefined && this.peerKey !== null;
    if (this.crypto) {
      await this.crypto.openIncoming(both ? this.peerKey : null);
      await this.crypto.sealOutgoing(both);
    }
    const link = this.conn?.peerLink;
    await link?.transceiver('audio')?.sender.replaceTrack(this.local.audio ?? null);
    await link?.transceiver('video')?.sender.replaceTrack(this.screen ?? this.local.video ?? null);
    if (this.isOver) return;
    this.update({ phase: 'open', startedAt: Date.now(), frameCrypto: both });
    this.qualityTimer = setInterval(() => void this.readQuality(), QUALITY_POLL_MS);
  }

  private async sendVideo(track: MediaStreamTrack | null): Promise<void> {
    if (!this.mediaStarted) return; // attached when media starts
    await this.conn?.peerLink?.transceiver('video')?.sender.replaceTrack(track).catch(() => undefined);
  }

  private async sendState(): Promise<void> {
    const conn = this.conn;
    if (!conn?.verified || this.isOver) return;
    await conn
      .sendOnChannel({ type: 'call-state', callId: this.view.id, muted: this.view.muted, camera: this.view.camera, screen: this.view.sharing })
      .catch(() => undefined);
  }

  private remoteTrack(track: MediaStreamTrack): void {
    if (track.kind === 'audio') {
      this.remoteTracks.audio = track;
      this.update({ remoteAudio: new MediaStream([track]) });
    } else if (track.kind === 'video') {
      this.remoteTracks.video = track;
      this.update({ remoteVideo: new MediaStream([track]) });
    }
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
        return this.end(this.mediaStarted ? 'failed' : 'no-path');
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
