// A live call with one contact: ringing, the WebRTC connection, its path (direct, relayed,
// reconnecting; connection-watch.ts decides) and channel binding. It carries ratchet envelopes
// both ways but does not decide what they mean: the outbox seals what goes out and the inbox
// opens what comes in. Channel-only payloads (binding, goodbye) are sealed here through the
// same session.
import type { Payload, SignalData } from '../../wire/index.ts';
import { PeerLink } from '../transport/peer-link.ts';
import { FILE_FRAME_TAG } from '../../protocol/file-chunks.ts';
import { bindingMatches, fingerprintOf, type Fingerprints } from './channel-binding.ts';
import { ConnectionWatch, type PathState } from './connection-watch.ts';
import { iceIsStale, NO_ICE, type IceConfig } from './ice-source.ts';

export type { PathState };

export type CallPhase = 'calling' | 'incoming' | 'connecting' | 'open' | 'ended';

export type EndReason = 'declined' | 'busy' | 'unavailable' | 'no-answer' | 'cancelled' | 'left' | 'hung-up' | 'failed' | 'no-path' | 'intercepted';

export interface CallView {
  id: string;
  peer: string;
  role: 'caller' | 'callee';
  phase: CallPhase;
  ended?: { reason: EndReason; text: string };
  /** Whether the contact's report of the DTLS fingerprints matched ours (channel binding). */
  binding: 'pending' | 'verified';
  /** Which way the connection goes: still looking, direct, through a TURN relay, or lost for now. */
  path: PathState;
}

export interface CallDeps {
  /** STUN/TURN servers with a fresh TURN credential (fetched per call: credentials expire); undefined if the server cannot be asked. */
  ice(): Promise<IceConfig | undefined>;
  sendSignal(data: SignalData): boolean;
  /** Seals a channel-only payload for the contact; throws if sending is blocked. */
  seal(payload: Payload): Promise<Uint8Array>;
  /** Whether sending to the contact is blocked by an unaccepted safety number. */
  blocked(): boolean;
  envelope(bytes: Uint8Array): void;
  /** A file chunk frame (not a ratchet envelope). */
  chunk(bytes: Uint8Array): void;
  onChange(view: CallView): void;
  /** The channel can carry messages (true), or cannot, for now or for good (false). */
  channel(open: boolean): void;
}

const RING_TIMEOUT_MS = 45_000;

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
    case 'no-path':
      return `Cannot reach ${peer} directly; messages go through the server.`;
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
  private ice: IceConfig | undefined;
  private icePrefetch: Promise<IceConfig | undefined> | undefined;
  private readonly watch: ConnectionWatch;

  constructor(
    id: string,
    peer: string,
    role: 'caller' | 'callee',
    private readonly deps: CallDeps,
  ) {
    this.view = { id, peer, role, phase: role === 'caller' ? 'calling' : 'incoming', binding: 'pending', path: 'connecting' };
    this.watch = new ConnectionWatch({
      path: async () => (await this.link?.path())?.kind,
      restart: () => void this.restart(),
      changed: (path) => this.pathChanged(path),
      giveUp: (reason) => this.end(reason === 'no-path' ? 'no-path' : 'failed'),
    });
  }

  get snapshot(): CallView {
    return this.view;
  }

  get isOver(): boolean {
    return this.view.phase === 'ended';
  }

  /** The channel, when it is open and has a path, for the outbox and file transfers to send on. */
  get channel(): { send(bytes: Uint8Array): boolean; sendPaced(bytes: Uint8Array): Promise<boolean> } | undefined {
    return this.view.phase === 'open' && this.view.path !== 'reconnecting' && this.link?.isOpen ? this.link : undefined;
  }

  async dial(): Promise<void> {
    this.ice = (await this.deps.ice()) ?? NO_ICE;
    if (this.isOver) return; // cancelled while fetching
    this.link = this.makeLink(this.ice.servers);
    await this.link.start();
    this.arm(RING_TIMEOUT_MS, 'no-answer');
  }

  ring(offerSdp: string): void {
    this.pendingOffer = offerSdp;
    this.arm(RING_TIMEOUT_MS, 'cancelled');
    // Fetched while it rings, so accepting does not wait for it.
    this.icePrefetch = this.deps.ice();
  }

  async accept(): Promise<void> {
    if (this.view.phase !== 'incoming' || !this.pendingOffer) return;
    this.update({ phase: 'connecting' });
    clearTimeout(this.timer);
    this.watch.start();
    let ice = (await (this.icePrefetch ?? this.deps.ice())) ?? NO_ICE;
    if (iceIsStale(ice, Date.now())) ice = (await this.deps.ice()) ?? ice;
    if (this.isOver) return;
    this.ice = ice;
    this.link = this.makeLink(ice.servers);
    for (const s of this.earlySignals.splice(0)) await this.link.handleSignal(s);
    await this.link.answer(this.pendingOffer);
  }

  /** The browser is online again, maybe on another network. */
  networkChanged(): void {
    if (this.view.phase === 'connecting' || this.view.phase === 'open') this.watch.networkChanged();
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
        if (this.view.phase === 'calling') {
          clearTimeout(this.timer);
          this.update({ phase: 'connecting' });
          this.watch.start();
        }
        return this.link?.handleSignal(data);
      case 'ice':
        if (this.link) return this.link.handleSignal(data);
        this.earlySignals.push(data);
        return;
      case 'offer':
        // An ICE restart from the caller, on the connection we already have.
        if (this.view.role === 'callee' && this.link) return this.link.handleSignal(data);
        return;
      case 'restart':
        if (this.view.role === 'caller' && this.link) this.watch.restartRequested();
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

  private makeLink(iceServers: RTCIceServer[]): PeerLink {
    return new PeerLink(this.view.role, iceServers, {
      signal: (data) => void this.deps.sendSignal(data),
      open: () => {
        clearTimeout(this.timer);
        this.update({ phase: 'open' });
        this.deps.channel(true);
        void this.sendBinding();
      },
      message: (bytes) => (bytes[0] === FILE_FRAME_TAG ? this.deps.chunk(bytes) : this.deps.envelope(bytes)),
      // A channel that dies while we look for a path was lost; otherwise the contact closed it.
      closed: () => this.end(this.view.path === 'reconnecting' ? 'failed' : 'left'),
      state: (state) => this.watch.connectionState(state),
    });
  }

  private pathChanged(path: PathState): void {
    const was = this.view.path;
    this.update({ path });
    if (this.view.phase !== 'open') return;
    // While reconnecting, new messages go through the server and unconfirmed ones are resent there.
    if (path === 'reconnecting') this.deps.channel(false);
    else if (was === 'reconnecting') this.deps.channel(true);
  }

  /** An ICE restart, with the servers and a credential fetched now (or the ones we had, if the server cannot be asked). */
  private async restart(): Promise<void> {
    const link = this.link;
    if (!link || this.isOver) return;
    const fresh = await this.deps.ice();
    if (this.isOver) return;
    if (fresh) this.ice = fresh;
    const servers = fresh?.servers;
    if (this.view.role === 'caller') {
      await link.restartIce(servers).catch(() => undefined);
    } else {
      if (servers) link.setIceServers(servers);
      this.deps.sendSignal({ kind: 'restart' });
    }
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
    this.watch.stop();
    this.link?.close();
    this.update({ phase: 'ended', ended: { reason, text: endText(reason, this.view.peer) } });
    if (wasOpen) this.deps.channel(false);
  }

  private update(patch: Partial<CallView>): void {
    this.view = { ...this.view, ...patch };
    this.deps.onChange(this.view);
  }
}
