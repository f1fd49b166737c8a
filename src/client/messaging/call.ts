// A live call with one contact: ringing, the WebRTC connection, and channel binding. It carries
// ratchet envelopes both ways but does not decide what they mean: the outbox seals what goes
// out and the inbox opens what comes in. Channel-only payloads (binding, goodbye) are sealed
// here through the same session.
import type { Payload, SignalData } from '../../wire/index.ts';
import { PeerLink } from '../transport/peer-link.ts';
import { FILE_FRAME_TAG } from '../../protocol/file-chunks.ts';
import { bindingMatches, fingerprintOf, type Fingerprints } from './channel-binding.ts';

export type CallPhase = 'calling' | 'incoming' | 'connecting' | 'open' | 'ended';

export type EndReason = 'declined' | 'busy' | 'unavailable' | 'no-answer' | 'cancelled' | 'left' | 'hung-up' | 'failed' | 'intercepted';

export interface CallView {
  id: string;
  peer: string;
  role: 'caller' | 'callee';
  phase: CallPhase;
  ended?: { reason: EndReason; text: string };
  /** Whether the contact's report of the DTLS fingerprints matched ours (channel binding). */
  binding: 'pending' | 'verified';
}

export interface CallDeps {
  iceServers: RTCIceServer[];
  sendSignal(data: SignalData): boolean;
  /** Seals a channel-only payload for the contact; throws if sending is blocked. */
  seal(payload: Payload): Promise<Uint8Array>;
  /** Whether sending to the contact is blocked by an unaccepted safety number. */
  blocked(): boolean;
  envelope(bytes: Uint8Array): void;
  /** A file chunk frame (not a ratchet envelope). */
  chunk(bytes: Uint8Array): void;
  onChange(view: CallView): void;
  /** The channel opened (true) or closed (false). */
  channel(open: boolean): void;
}

const RING_TIMEOUT_MS = 45_000;
const CONNECT_TIMEOUT_MS = 30_000;

export function endText(reason: EndReason, peer: string): string {
  switch (reason) {
    case 'declined':
      return `${peer} declined the call.`;
    case 'busy':
      return `${peer} is in another call.`;
    case 'unavailable':
      return `${peer} is offline. They will get your messages when they come online.`;
    case 'no-answer':
      return `${peer} didn't answer.`;
    case 'cancelled':
      return `${peer} cancelled the call.`;
    case 'left':
      return `${peer} left the call.`;
    case 'hung-up':
      return 'You ended the call.';
    case 'failed':
      return `The direct connection to ${peer} was lost. Messages now go through the server.`;
    case 'intercepted':
      return `The direct connection to ${peer} was closed: its two ends do not match, which means someone may be intercepting it. Try again, ideally on another network.`;
  }
}

export class Call {
  private view: CallView;
  private link: PeerLink | undefined;
  private pendingOffer: string | undefined;
  private readonly earlySignals: SignalData[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private bindingSent = false;

  constructor(
    id: string,
    peer: string,
    role: 'caller' | 'callee',
    private readonly deps: CallDeps,
  ) {
    this.view = { id, peer, role, phase: role === 'caller' ? 'calling' : 'incoming', binding: 'pending' };
  }

  get snapshot(): CallView {
    return this.view;
  }

  get isOver(): boolean {
    return this.view.phase === 'ended';
  }

  /** The channel, when it is open, for the outbox and file transfers to send on. */
  get channel(): { send(bytes: Uint8Array): boolean; sendPaced(bytes: Uint8Array): Promise<boolean> } | undefined {
    return this.view.phase === 'open' && this.link?.isOpen ? this.link : undefined;
  }

  async dial(): Promise<void> {
    this.link = this.makeLink();
    await this.link.start();
    this.arm(RING_TIMEOUT_MS, 'no-answer');
  }

  ring(offerSdp: string): void {
    this.pendingOffer = offerSdp;
    this.arm(RING_TIMEOUT_MS, 'cancelled');
  }

  async accept(): Promise<void> {
    if (this.view.phase !== 'incoming' || !this.pendingOffer) return;
    this.update({ phase: 'connecting' });
    this.link = this.makeLink();
    for (const s of this.earlySignals.splice(0)) await this.link.handleSignal(s);
    await this.link.answer(this.pendingOffer);
    this.arm(CONNECT_TIMEOUT_MS, 'failed');
  }

  decline(): void {
    if (this.view.phase !== 'incoming') return;
    this.deps.sendSignal({ kind: 'decline', reason: 'declined' });
    this.end('hung-up');
  }

  hangup(): void {
    if (this.isOver) return;
    if (this.channel && !this.deps.blocked()) {
      void this.sendOnChannel({ type: 'bye' }).finally(() => this.link?.close());
    } else {
      this.deps.sendSignal({ kind: 'hangup' });
      this.link?.close();
    }
    this.end('hung-up');
  }

  async handleSignal(data: SignalData): Promise<void> {
    if (this.isOver) return;
    switch (data.kind) {
      case 'decline':
        return this.end(data.reason === 'busy' ? 'busy' : 'declined');
      case 'hangup':
        return this.end(this.view.phase === 'incoming' ? 'cancelled' : 'left');
      case 'answer':
        this.update({ phase: 'connecting' });
        this.arm(CONNECT_TIMEOUT_MS, 'failed');
        return this.link?.handleSignal(data);
      case 'ice':
        if (this.link) return this.link.handleSignal(data);
        this.earlySignals.push(data);
        return;
      case 'offer':
        return;
    }
  }

  /** The server could not deliver our offer: the contact is offline (or does not exist). */
  unreachable(): void {
    if (this.view.phase === 'calling') this.end('unavailable');
  }

  /** A channel-only payload arrived from the contact (through the inbox). */
  onControl(p: Payload): void {
    if (p.type === 'binding') {
      const mine = this.fingerprints();
      if (!mine || !bindingMatches(mine, p)) {
        this.link?.close();
        this.end('intercepted');
        return;
      }
      this.update({ binding: 'verified' });
    } else if (p.type === 'bye') {
      this.link?.close();
      this.end('left');
    }
  }

  /** Sending was unblocked (a new safety number accepted): send our binding now. */
  async unblocked(): Promise<void> {
    if (this.view.phase === 'open') await this.sendBinding();
  }

  private fingerprints(): Fingerprints | undefined {
    const d = this.link?.descriptions;
    const local = fingerprintOf(d?.local);
    const remote = fingerprintOf(d?.remote);
    return local && remote ? { local, remote } : undefined;
  }

  /** Sends our binding once; retried a few times if the descriptions or the session are not ready yet. */
  private async sendBinding(attempt = 0): Promise<void> {
    if (this.bindingSent || this.deps.blocked() || this.isOver) return;
    const mine = this.fingerprints();
    try {
      if (!mine) throw new Error('no fingerprints yet');
      this.bindingSent = true;
      await this.sendOnChannel({ type: 'binding', local: mine.local, remote: mine.remote });
    } catch {
      this.bindingSent = false;
      if (attempt < 5) setTimeout(() => void this.sendBinding(attempt + 1), 300 * (attempt + 1));
    }
  }

  private async sendOnChannel(p: Payload): Promise<void> {
    const bytes = await this.deps.seal(p);
    this.link?.send(bytes);
  }

  private makeLink(): PeerLink {
    return new PeerLink(this.view.role, this.deps.iceServers, {
      signal: (data) => void this.deps.sendSignal(data),
      open: () => {
        clearTimeout(this.timer);
        this.update({ phase: 'open' });
        this.deps.channel(true);
        void this.sendBinding();
      },
      message: (bytes) => (bytes[0] === FILE_FRAME_TAG ? this.deps.chunk(bytes) : this.deps.envelope(bytes)),
      closed: (reason) => this.end(reason === 'failed' ? 'failed' : 'left'),
    });
  }

  private arm(ms: number, reason: EndReason): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.isOver || this.view.phase === 'open') return;
      if (reason === 'no-answer') this.deps.sendSignal({ kind: 'hangup' });
      this.link?.close();
      this.end(reason);
    }, ms);
  }

  private end(reason: EndReason): void {
    if (this.isOver) return;
    const wasOpen = this.view.phase === 'open';
    clearTimeout(this.timer);
    this.link?.close();
    this.update({ phase: 'ended', ended: { reason, text: endText(reason, this.view.peer) } });
    if (wasOpen) this.deps.channel(false);
  }

  private update(patch: Partial<CallView>): void {
    this.view = { ...this.view, ...patch };
    this.deps.onChange(this.view);
  }
}
