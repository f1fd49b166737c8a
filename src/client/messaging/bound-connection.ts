// One WebRTC connection to a contact whose DTLS fingerprints are confirmed inside the ratchet
// (channel binding, DESIGN.md "Transport"), with its path watch (direct, relayed, reconnecting;
// connection-watch.ts decides) and ICE restarts. The background direct channel and a call each
// own one. Channel-only payloads (binding, goodbye) are sealed here through the contact's
// session; what else arrives on the channel is handed up unread. A renegotiation whose
// fingerprint differs from the one already bound is refused before the browser applies it.
// Knows nothing of ringing, media tracks or the outbox.
import type { Payload, SignalData } from '../../wire/index.ts';
import { PeerLink, type PeerLinkOptions } from '../transport/peer-link.ts';
import { bindingMatches, fingerprintOf, type Fingerprints } from './channel-binding.ts';
import { ConnectionWatch, type PathState } from './connection-watch.ts';
import type { IceConfig } from './ice-source.ts';

export type { PathState };

/**
 * Why a connection ended: the contact closed it ('left'), it was lost ('failed') or never found
 * a path ('no-path'), its two ends did not match ('intercepted'), or this side closed it.
 */
export type ConnectionEnd = 'left' | 'failed' | 'no-path' | 'intercepted' | 'closed';

export interface BoundConnectionDeps {
  /** Servers with a fresh TURN credential for an ICE restart; undefined if the server cannot be asked. */
  ice(): Promise<IceConfig | undefined>;
  sendSignal(data: SignalData): void;
  /** Seals a channel-only payload for the contact; throws if sending is blocked. */
  seal(payload: Payload): Promise<Uint8Array>;
  /** Whether sending to the contact is blocked by an unaccepted safety number. */
  blocked(): boolean;
  /** Any frame on the channel: ratchet envelopes and file chunks. */
  message(bytes: Uint8Array): void;
  opened(): void;
  /** The connection reached 'connected' for the first time (DTLS is up). */
  connected?(): void;
  /** The contact's report of both fingerprints matched ours. */
  bound(): void;
  pathChanged(path: PathState): void;
  ended(reason: ConnectionEnd): void;
  track?(track: MediaStreamTrack, transceiver: RTCRtpTransceiver): void;
}

export interface ConnectionOptions {
  policy: RTCIceTransportPolicy;
  media?: boolean;
  prepareTransceiver?: PeerLinkOptions['prepareTransceiver'];
}

/** How long a goodbye has to leave before the connection under it is closed. */
const FAREWELL_FLUSH_MS = 250;

export class BoundConnection {
  private link: PeerLink | undefined;
  private readonly earlySignals: SignalData[] = [];
  private bindingSent = false;
  private boundFingerprints: Fingerprints | undefined;
  private ended = false;
  private isOpen = false;
  private wasConnected = false;
  private currentPath: PathState = 'connecting';
  private readonly watch: ConnectionWatch;

  constructor(
    readonly role: 'caller' | 'callee',
    private readonly options: ConnectionOptions,
    private readonly deps: BoundConnectionDeps,
  ) {
    this.watch = new ConnectionWatch({
      path: async () => (await this.link?.path())?.kind,
      restart: () => void this.restart(),
      changed: (path) => {
        this.currentPath = path;
        this.deps.pathChanged(path);
      },
      giveUp: (reason) => this.end(reason === 'no-path' ? 'no-path' : 'failed'),
    });
  }

  get path(): PathState {
    return this.currentPath;
  }

  get verified(): boolean {
    return this.boundFingerprints !== undefined;
  }

  get isOver(): boolean {
    return this.ended;
  }

  get peerLink(): PeerLink | undefined {
    return this.link;
  }

  /** The channel, when it is open and has a path, for the outbox and file transfers to send on. */
  get channel(): { send(bytes: Uint8Array): boolean; sendPaced(bytes: Uint8Array): Promise<boolean> } | undefined {
    return this.isOpen && !this.ended && this.currentPath !== 'reconnecting' && this.link?.isOpen ? this.link : undefined;
  }

  /** Caller: makes the offer (it goes out through sendSignal, possibly with more added by `decorate`). */
  async start(ice: IceConfig): Promise<void> {
    if (this.ended) return;
    this.link = this.makeLink(ice.servers);
    await this.link.start();
  }

  /** Callee: answers `offerSdp` and starts looking for a path. */
  async answer(offerSdp: string, ice: IceConfig): Promise<void> {
    await this.prepareAnswer(offerSdp, ice);
    await this.commitAnswer();
  }

  /** Callee, while it rings: the offer applied and the answer made (its SDP returned), nothing sent. */
  async prepareAnswer(offerSdp: string, ice: IceConfig): Promise<string | undefined> {
    if (this.ended) return undefined;
    this.link = this.makeLink(ice.servers);
    for (const s of this.earlySignals.splice(0)) await this.link.handleSignal(s);
    return this.link.prepareAnswer(offerSdp);
  }

  /** Callee: answers, and starts looking for a path. */
  async commitAnswer(): Promise<void> {
    if (this.ended || !this.link) return;
    this.watch.start();
    await this.link.commitAnswer();
  }

  /** The browser is online again, maybe on another network. */
  networkChanged(): void {
    if (!this.ended) this.watch.networkChanged();
  }

  async handleSignal(data: SignalData): Promise<void> {
    if (this.ended) return;
    switch (data.kind) {
      case 'answer':
        if (this.role !== 'caller') return;
        if (this.refusesSdp(data.sdp)) return;
        this.watch.start();
        return this.link?.handleSignal(data);
      case 'ice':
        if (this.link) return this.link.handleSignal(data);
        this.earlySignals.push(data);
        return;
      case 'offer':
        // An ICE restart from the caller, on the connection we already have.
        if (this.role !== 'callee' || !this.link || this.refusesSdp(data.sdp)) return;
        return this.link.handleSignal(data);
      case 'restart':
        if (this.role === 'caller' && this.link) this.watch.restartRequested();
        return;
      default:
        return;
    }
  }

  /** The contact's binding report (through the inbox). */
  onBinding(p: Extract<Payload, { type: 'binding' }>): void {
    if (this.ended) return;
    const mine = this.fingerprints();
    if (!mine || !bindingMatches(mine, p)) return this.end('intercepted');
    if (this.boundFingerprints) return;
    this.boundFingerprints = mine;
    this.deps.bound();
  }

  /** The contact said goodbye on the channel (and why, if it was a swapped fingerprint). */
  onBye(p: Extract<Payload, { type: 'bye' }>): void {
    this.end(p.reason === 'mismatch' ? 'intercepted' : 'left');
  }

  /** Sending was unblocked (a new safety number accepted): send our binding now. */
  async unblocked(): Promise<void> {
    if (this.isOpen) await this.sendBinding();
  }

  /** Seals `p` and sends it on this connection's channel (even while its path is being re-checked). */
  async sendOnChannel(p: Payload): Promise<boolean> {
    const bytes = await this.deps.seal(p);
    return this.link?.send(bytes) ?? false;
  }

  /** Closes the connection; `farewell` first tells the contact on the channel (when there is one). */
  close(farewell = false): void {
    if (this.ended) return;
    if (farewell) this.farewell({ type: 'bye' }, 'closed');
    else this.end('closed');
  }

  /**
   * A new description whose fingerprint is not the one both sides confirmed means someone is
   * swapping the connection's certificate: end it before the browser ever uses it.
   */
  private refusesSdp(sdp: string): boolean {
    const bound = this.boundFingerprints;
    const current = bound?.remote ?? fingerprintOf(this.link?.descriptions.remote);
    if (!current || fingerprintOf(sdp) === current) return false;
    // The channel itself is still the one both sides confirmed: say why on it, sealed.
    this.farewell({ type: 'bye', reason: 'mismatch' }, 'intercepted');
    return true;
  }

  /** Says goodbye on the channel if it can, then closes it; ends now either way. */
  private farewell(bye: Extract<Payload, { type: 'bye' }>, reason: ConnectionEnd): void {
    const link = this.link;
    if (!this.channel || this.deps.blocked()) return this.end(reason);
    // pc.close() would drop what the channel has not sent yet: the goodbye gets a moment.
    void this.sendOnChannel(bye)
      .catch(() => undefined)
      .finally(() => setTimeout(() => link?.close(), FAREWELL_FLUSH_MS));
    this.end(reason, false);
  }

  private fingerprints(): Fingerprints | undefined {
    const d = this.link?.descriptions;
    const local = fingerprintOf(d?.local);
    const remote = fingerprintOf(d?.remote);
    return local && remote ? { local, remote } : undefined;
  }

  /** Sends our binding once; retried a few times if the descriptions or the session are not ready yet. */
  private async sendBinding(attempt = 0): Promise<void> {
    if (this.bindingSent || this.deps.blocked() || this.ended) return;
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

  private makeLink(iceServers: RTCIceServer[]): PeerLink {
    return new PeerLink(
      this.role,
      { iceServers, policy: this.options.policy, media: this.options.media, prepareTransceiver: this.options.prepareTransceiver },
      {
        signal: (data) => this.deps.sendSignal(data),
        open: () => {
          this.isOpen = true;
          this.deps.opened();
          void this.sendBinding();
        },
        message: (bytes) => this.deps.message(bytes),
        // A channel that dies while we look for a path was lost; otherwise the contact closed it.
        closed: () => this.end(this.currentPath === 'reconnecting' ? 'failed' : 'left'),
        state: (state) => {
          if (state === 'connected' && !this.wasConnected) {
            this.wasConnected = true;
            this.deps.connected?.();
          }
          this.watch.connectionState(state);
        },
        track: (track, transceiver) => this.deps.track?.(track, transceiver),
      },
    );
  }

  /** An ICE restart, with the servers and a credential fetched now (or the ones we had, if the server cannot be asked). */
  private async restart(): Promise<void> {
    const link = this.link;
    if (!link || this.ended) return;
    const fresh = await this.deps.ice();
    if (this.ended) return;
    const servers = fresh?.servers;
    if (this.role === 'caller') {
      await link.restartIce(servers).catch(() => undefined);
    } else {
      if (servers) link.setIceServers(servers);
      this.deps.sendSignal({ kind: 'restart' });
    }
  }

  private end(reason: ConnectionEnd, closeLink = true): void {
    if (this.ended) return;
    this.ended = true;
    this.watch.stop();
    if (closeLink) this.link?.close();
    this.deps.ended(reason);
  }
}
