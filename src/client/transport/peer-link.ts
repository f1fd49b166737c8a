// One RTCPeerConnection with one ordered, reliable DataChannel carrying opaque binary frames,
// and for a call an audio and a video transceiver whose tracks the layer above attaches when
// it decides media may flow. Signaling goes out through a callback; ICE candidates that arrive
// before the remote description are queued (trickle ICE, RFC 8838). It reports the connection
// state and which path the bytes take (selected-path.ts), and restarts ICE when told to
// (RFC 8445 §9), but it does not decide when: that is the connection watch. Knows nothing of
// keys or messages; it only reports the SDP of both ends so the layer above can bind them.
import type { SignalData } from '../../wire/index.ts';
import { selectedPath, type SelectedPath } from './selected-path.ts';

export type LinkRole = 'caller' | 'callee';

export interface PeerLinkOptions {
  iceServers: RTCIceServer[];
  /** 'relay': gather and use TURN relay candidates only, so the peer never learns our address. */
  policy?: RTCIceTransportPolicy;
  /** An audio and a video transceiver (send and receive), for a call. */
  media?: boolean;
  /** Called on each transceiver before the offer or answer is made (codec preferences, transforms). */
  prepareTransceiver?(transceiver: RTCRtpTransceiver, kind: 'audio' | 'video'): void;
}

export interface PeerLinkEvents {
  signal(data: SignalData): void;
  open(): void;
  message(bytes: Uint8Array): void;
  /** The DataChannel closed: the peer closed its end, or the association died. */
  closed(): void;
  /** The peer connection's state changed ('connected', 'disconnected', 'failed', …). */
  state(state: RTCPeerConnectionState): void;
  /** A remote media track (calls). */
  track?(track: MediaStreamTrack, transceiver: RTCRtpTransceiver): void;
}

const CHANNEL_LABEL = 'parley';
/** Pacing of large transfers: wait above 8 MiB buffered, resume below 2 MiB. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;
/** How long a restart offer waits for its answer before another may replace it. */
const RESTART_ANSWER_WAIT_MS = 5_000;

export class PeerLink {
  private readonly pc: RTCPeerConnection;
  private channel: RTCDataChannel | undefined;
  private readonly pendingCandidates: RTCIceCandidateInit[] = [];
  private closed = false;
  private opened = false;
  private readonly outbox: Uint8Array[] = [];
  private signals: Promise<void> = Promise.resolve();
  private offeredAt = 0;
  private preparedAnswer: RTCSessionDescriptionInit | undefined;

  constructor(
    private readonly role: LinkRole,
    private readonly options: PeerLinkOptions,
    private readonly events: PeerLinkEvents,
  ) {
    this.pc = new RTCPeerConnection({ iceServers: options.iceServers, iceTransportPolicy: options.policy ?? 'all' });
    this.pc.ontrack = (e) => this.events.track?.(e.track, e.transceiver);
    this.pc.onicecandidate = (e) => {
      const c = e.candidate;
      this.events.signal({
        kind: 'ice',
        candidate: c ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment } : null,
      });
    };
    // A failed connection is not the end: the watch above restarts ICE, and gives up on its own clock.
    this.pc.onconnectionstatechange = () => {
      if (!this.closed) this.events.state(this.pc.connectionState);
    };
    if (role === 'callee') {
      this.pc.ondatachannel = (e) => {
        if (e.channel.label === CHANNEL_LABEL && !this.channel) this.adopt(e.channel);
      };
    }
  }

  /** Caller: make the channel and the offer. */
  async start(): Promise<void> {
    if (this.role !== 'caller') throw new Error('only the caller starts');
    this.adopt(this.pc.createDataChannel(CHANNEL_LABEL, { ordered: true }));
    if (this.options.media) {
      for (const kind of ['audio', 'video'] as const) this.options.prepareTransceiver?.(this.pc.addTransceiver(kind, { direction: 'sendrecv' }), kind);
    }
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.events.signal({ kind: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  /** Callee: answer an offer. */
  async answer(offerSdp: string): Promise<void> {
    await this.prepareAnswer(offerSdp);
    await this.commitAnswer();
  }

  /**
   * Callee, before deciding: applies the offer and makes the answer without using it, so that
   * answering later is quick. Nothing is sent and no candidate is gathered until commitAnswer.
   */
  async prepareAnswer(offerSdp: string): Promise<string> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    if (this.options.media) {
      // The offer made them receive-only on this side; they send too, once a track is attached.
      for (const t of this.pc.getTransceivers()) {
        const kind = t.receiver.track.kind;
        if (kind !== 'audio' && kind !== 'video') continue;
        t.direction = 'sendrecv';
        this.options.prepareTransceiver?.(t, kind);
      }
    }
    await this.flushCandidates();
    this.preparedAnswer = await this.pc.createAnswer();
    return this.preparedAnswer.sdp ?? '';
  }

  /** Callee: uses the answer prepareAnswer made, and sends it. */
  async commitAnswer(): Promise<void> {
    if (!this.preparedAnswer || this.closed) return;
    await this.pc.setLocalDescription(this.preparedAnswer);
    this.preparedAnswer = undefined;
    this.events.signal({ kind: 'answer', sdp: this.pc.localDescription!.sdp });
  }

  /**
   * Caller: a new offer with fresh ICE credentials, so both ends gather and check again (after
   * a network change or a failure). New servers (a fresh TURN credential) apply from this round.
   */
  async restartIce(iceServers?: RTCIceServer[]): Promise<void> {
    if (this.role !== 'caller' || this.closed || !this.pc.remoteDescription) return;
    if (iceServers) this.setIceServers(iceServers);
    if (this.pc.signalingState === 'have-local-offer') {
      // A restart offer is out: a second one now would cross its answer. Only if that answer
      // is long overdue (the offer was lost) is it withdrawn and made again.
      if (Date.now() - this.offeredAt < RESTART_ANSWER_WAIT_MS) return;
      await this.pc.setLocalDescription({ type: 'rollback' });
    }
    const offer = await this.pc.createOffer({ iceRestart: true });
    if (this.closed) return;
    await this.pc.setLocalDescription(offer);
    this.offeredAt = Date.now();
    this.events.signal({ kind: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  /** The transceiver carrying `kind` (calls only). */
  transceiver(kind: 'audio' | 'video'): RTCRtpTransceiver | undefined {
    return this.pc.getTransceivers().find((t) => t.receiver.track.kind === kind);
  }

  /** The connection's getStats() report (calls read media figures from it). */
  stats(): Promise<RTCStatsReport> | undefined {
    return this.closed ? undefined : this.pc.getStats();
  }

  /** Servers for the next gathering (an ICE restart); the current candidates stay. */
  setIceServers(iceServers: RTCIceServer[]): void {
    if (!this.closed) this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers });
  }

  /** Which way the bytes go now, from getStats; undefined until a pair is selected. */
  async path(): Promise<SelectedPath | undefined> {
    if (this.closed) return undefined;
    return selectedPath(await this.pc.getStats());
  }

  /** Signals are applied one at a time, in the order they came (a restart offer before its candidates). */
  handleSignal(data: SignalData): Promise<void> {
    const next = this.signals.then(() => this.applySignal(data));
    this.signals = next.catch(() => undefined);
    return next;
  }

  private async applySignal(data: SignalData): Promise<void> {
    if (this.closed) return;
    if (data.kind === 'answer' && this.role === 'caller' && this.pc.signalingState === 'have-local-offer') {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
      await this.flushCandidates();
    } else if (data.kind === 'offer' && this.role === 'callee' && this.pc.remoteDescription && this.pc.signalingState === 'stable') {
      // The caller restarts ICE: answer on the same connection (same DTLS, same channel).
      await this.pc.setRemoteDescription({ type: 'offer', sdp: data.sdp });
      const answer = await this.pc.createAnswer();
      if (this.closed) return;
      await this.pc.setLocalDescription(answer);
      this.events.signal({ kind: 'answer', sdp: this.pc.localDescription!.sdp });
    } else if (data.kind === 'ice') {
      const init: RTCIceCandidateInit = data.candidate ?? { candidate: '' };
      if (this.pc.remoteDescription) await this.addCandidate(init);
      else this.pendingCandidates.push(init);
    }
  }

  /**
   * Sends now if the channel is open, or as soon as it opens: the peer's first frame can arrive
   * (and be answered) before our own side has seen its open event.
   */
  send(bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (this.channel?.readyState === 'open') {
      this.channel.send(new Uint8Array(bytes));
      return true;
    }
    this.outbox.push(bytes);
    return true;
  }

  /**
   * Sends once the channel's send buffer has room (below LOW_WATER), so a large file is paced
   * by the network instead of piling up in memory. False if the channel closed meanwhile.
   */
  async sendPaced(bytes: Uint8Array): Promise<boolean> {
    const channel = this.channel;
    if (this.closed || channel?.readyState !== 'open') return false;
    if (channel.bufferedAmount > HIGH_WATER) {
      await new Promise<void>((resolve) => {
        const done = () => {
          channel.removeEventListener('bufferedamountlow', done);
          channel.removeEventListener('close', done);
          resolve();
        };
        channel.addEventListener('bufferedamountlow', done);
        channel.addEventListener('close', done);
      });
    }
    if (this.closed || channel.readyState !== 'open') return false;
    // Sent as it is, not copied: a file's chunks are 64 KiB each, a gigabyte of them at a time.
    channel.send(bytes as Uint8Array<ArrayBuffer>);
    return true;
  }

  get isOpen(): boolean {
    return this.channel?.readyState === 'open';
  }

  /** The SDP of both ends, for channel binding. */
  get descriptions(): { local: string | undefined; remote: string | undefined } {
    return { local: this.pc.localDescription?.sdp, remote: this.pc.remoteDescription?.sdp };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.channel?.close();
    this.pc.close();
  }

  private adopt(channel: RTCDataChannel): void {
    this.channel = channel;
    channel.binaryType = 'arraybuffer';
    channel.bufferedAmountLowThreshold = LOW_WATER;
    const onOpen = () => {
      if (this.opened) return;
      this.opened = true;
      for (const bytes of this.outbox.splice(0)) channel.send(new Uint8Array(bytes));
      this.events.open();
    };
    channel.onopen = onOpen;
    // A channel announced to the callee may already be open, in which case no open event follows.
    if (channel.readyState === 'open') queueMicrotask(onOpen);
    channel.onmessage = (e) => {
      // Text frames are not part of the protocol; anything but binary is dropped.
      if (e.data instanceof ArrayBuffer) this.events.message(new Uint8Array(e.data));
    };
    channel.onclose = () => this.finish();
  }

  private finish(): void {
    if (this.closed) return;
    this.close();
    this.events.closed();
  }

  private async flushCandidates(): Promise<void> {
    for (const c of this.pendingCandidates.splice(0)) await this.addCandidate(c);
  }

  private async addCandidate(init: RTCIceCandidateInit): Promise<void> {
    try {
      await this.pc.addIceCandidate(init);
    } catch {
      // A candidate the browser cannot use (another network's address family, say) is not fatal.
    }
  }
}
