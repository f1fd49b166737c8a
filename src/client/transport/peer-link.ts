// One RTCPeerConnection with one ordered, reliable DataChannel carrying opaque binary frames.
// Signaling goes out through a callback; ICE candidates that arrive before the remote
// description are queued (trickle ICE, RFC 8838). Knows nothing of keys or messages; it only
// reports the DTLS fingerprints from the SDP so the layer above can bind the channel.
import type { SignalData } from '../../wire/index.ts';

export type LinkRole = 'caller' | 'callee';

export interface PeerLinkEvents {
  signal(data: SignalData): void;
  open(): void;
  message(bytes: Uint8Array): void;
  closed(reason: 'peer-closed' | 'failed'): void;
}

const CHANNEL_LABEL = 'parley';
/** Pacing of large transfers: wait above 8 MiB buffered, resume below 2 MiB. */
const HIGH_WATER = 8 * 1024 * 1024;
const LOW_WATER = 2 * 1024 * 1024;

export class PeerLink {
  private readonly pc: RTCPeerConnection;
  private channel: RTCDataChannel | undefined;
  private readonly pendingCandidates: RTCIceCandidateInit[] = [];
  private closed = false;
  private opened = false;
  private readonly outbox: Uint8Array[] = [];

  constructor(
    private readonly role: LinkRole,
    iceServers: RTCIceServer[],
    private readonly events: PeerLinkEvents,
  ) {
    this.pc = new RTCPeerConnection({ iceServers });
    this.pc.onicecandidate = (e) => {
      const c = e.candidate;
      this.events.signal({
        kind: 'ice',
        candidate: c ? { candidate: c.candidate, sdpMid: c.sdpMid, sdpMLineIndex: c.sdpMLineIndex, usernameFragment: c.usernameFragment } : null,
      });
    };
    this.pc.onconnectionstatechange = () => {
      if (this.pc.connectionState === 'failed') this.finish('failed');
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
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    this.events.signal({ kind: 'offer', sdp: this.pc.localDescription!.sdp });
  }

  /** Callee: answer an offer. */
  async answer(offerSdp: string): Promise<void> {
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
    await this.flushCandidates();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    this.events.signal({ kind: 'answer', sdp: this.pc.localDescription!.sdp });
  }

  async handleSignal(data: SignalData): Promise<void> {
    if (this.closed) return;
    if (data.kind === 'answer' && this.role === 'caller' && this.pc.signalingState === 'have-local-offer') {
      await this.pc.setRemoteDescription({ type: 'answer', sdp: data.sdp });
      await this.flushCandidates();
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
    channel.send(new Uint8Array(bytes));
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
    channel.onclose = () => this.finish('peer-closed');
  }

  private finish(reason: 'peer-closed' | 'failed'): void {
    if (this.closed) return;
    this.close();
    this.events.closed(reason);
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
