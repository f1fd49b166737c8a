// One call with one contact, from ringing to goodbye: the PeerLink carries bytes, the
// SessionManager turns payloads into ratchet envelopes and back, and this class keeps the
// conversation and its security state. The DataChannel never carries anything but envelopes.
// Incoming frames are handled strictly one after another, in arrival order.
import { encodeBase64url, type Payload, type SignalData } from '../../wire/index.ts';
import { webRandom } from '../../crypto/random.ts';
import { ProtocolError, isProtocolError } from '../../protocol/errors.ts';
import { PeerLink } from '../transport/peer-link.ts';
import { ApiError } from '../platform/api-client.ts';
import { bindingMatches, fingerprintOf, type Fingerprints } from './channel-binding.ts';
import type { ContactSecurity, SessionManager } from './session-manager.ts';

export type CallPhase = 'calling' | 'incoming' | 'connecting' | 'chat' | 'ended';

export type EndReason =
  | 'declined'
  | 'busy'
  | 'unavailable'
  | 'no-answer'
  | 'cancelled'
  | 'left'
  | 'hung-up'
  | 'failed'
  | 'security'
  | 'intercepted'
  | 'error';

export interface ChatMessage {
  id: string;
  from: 'me' | 'peer' | 'system';
  text: string;
  at: number;
}

export interface CallView {
  id: string;
  peer: string;
  role: 'caller' | 'callee';
  phase: CallPhase;
  messages: readonly ChatMessage[];
  ended?: { reason: EndReason; text: string };
  security: ContactSecurity | null;
  /** Whether the peer's report of the DTLS fingerprints matched ours (channel binding). */
  binding: 'pending' | 'verified';
}

export interface CallDeps {
  sessions: SessionManager;
  iceServers: RTCIceServer[];
  sendSignal(data: SignalData): boolean;
  onChange(view: CallView): void;
}

const RING_TIMEOUT_MS = 45_000;
const CONNECT_TIMEOUT_MS = 30_000;

function failureOf(e: unknown, peer: string): { reason: EndReason; detail?: string } {
  // No such user, or one without keys: the same words as "offline", on purpose.
  if (e instanceof ApiError && e.code === 'not_found') {
    return { reason: 'unavailable', detail: `${peer} is not available right now. They may be offline, or the name may be mistyped.` };
  }
  if (e instanceof ProtocolError) return { reason: 'security' };
  return { reason: 'error', detail: e instanceof ApiError ? e.message : undefined };
}

export function newId(): string {
  return encodeBase64url(webRandom(16));
}

export function endText(reason: EndReason, peer: string, detail?: string): string {
  switch (reason) {
    case 'declined':
      return `${peer} declined the call.`;
    case 'busy':
      return `${peer} is in another call. Try again later.`;
    case 'unavailable':
      return detail ?? `${peer} is not available right now.`;
    case 'no-answer':
      return `${peer} didn't answer.`;
    case 'cancelled':
      return `${peer} cancelled the call.`;
    case 'left':
      return `${peer} left the chat.`;
    case 'hung-up':
      return 'You ended the chat.';
    case 'failed':
      return `The connection to ${peer} was lost.`;
    case 'security':
      return `Could not verify ${peer}'s keys, so the call was ended to keep you safe.`;
    case 'intercepted':
      return `The connection to ${peer} was closed: the two ends of the connection do not match, which means someone may be intercepting it. Try again, ideally on another network.`;
    case 'error':
      return detail ?? 'Something went wrong with this call.';
  }
}

export class Call {
  private view: CallView;
  private link: PeerLink | undefined;
  private pendingOffer: string | undefined;
  private readonly earlySignals: SignalData[] = [];
  private queue: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private bindingSent = false;

  constructor(
    id: string,
    peer: string,
    role: 'caller' | 'callee',
    private readonly deps: CallDeps,
  ) {
    this.view = { id, peer, role, phase: role === 'caller' ? 'calling' : 'incoming', messages: [], security: null, binding: 'pending' };
  }

  get snapshot(): CallView {
    return this.view;
  }

  get isOver(): boolean {
    return this.view.phase === 'ended';
  }

  /** Caller: make sure there is a session with the contact, then send the offer. */
  async dial(): Promise<void> {
    if (!(await this.prepare())) return;
    this.link = this.makeLink();
    await this.link.start();
    this.arm(RING_TIMEOUT_MS, 'no-answer');
  }

  /** Callee: the offer that rang, kept until the person decides. */
  ring(offerSdp: string): void {
    this.pendingOffer = offerSdp;
    this.arm(RING_TIMEOUT_MS, 'cancelled');
    void this.refreshSecurity();
  }

  async accept(): Promise<void> {
    if (this.view.phase !== 'incoming' || !this.pendingOffer) return;
    this.update({ phase: 'connecting' });
    if (!(await this.prepare())) {
      this.deps.sendSignal({ kind: 'hangup' });
      return;
    }
    this.link = this.makeLink();
    for (const s of this.earlySignals.splice(0)) await this.link.handleSignal(s);
    await this.link.answer(this.pendingOffer);
    this.arm(CONNECT_TIMEOUT_MS, 'failed');
  }

  decline(): void {
    if (this.view.phase !== 'incoming') return;
    this.deps.sendSignal({ kind: 'decline', reason: 'declined' });
    this.end('declined', 'You declined the call.');
  }

  hangup(): void {
    if (this.isOver) return;
    if (this.view.phase === 'chat' && this.link?.isOpen && !this.view.security?.keyChanged) {
      // Best effort: say goodbye inside the channel, then close it.
      void this.sendPayload({ type: 'bye' }).finally(() => this.link?.close());
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
        return; // a second offer for the same call is ignored
    }
  }

  /** The server could not deliver our signal (peer offline, unknown). */
  unreachable(message: string): void {
    if (this.view.phase === 'calling') this.end('unavailable', message);
  }

  async send(text: string): Promise<boolean> {
    if (this.view.phase !== 'chat' || this.view.security?.keyChanged) return false;
    const message: ChatMessage = { id: newId(), from: 'me', text, at: Date.now() };
    const sent = await this.sendPayload({ type: 'text', id: message.id, text, sentAt: message.at, seq: this.view.messages.length });
    if (sent) this.update({ messages: [...this.view.messages, message] });
    return sent;
  }

  /** The user accepted the contact's new safety number. */
  async acceptNewKey(): Promise<void> {
    await this.deps.sessions.acceptNewKey(this.view.peer);
    await this.refreshSecurity();
    if (this.view.phase === 'chat') await this.sendBinding();
  }

  async setVerified(verified: boolean): Promise<void> {
    await this.deps.sessions.setVerified(this.view.peer, verified);
    await this.refreshSecurity();
  }

  private async prepare(): Promise<boolean> {
    try {
      await this.deps.sessions.prepare(this.view.peer);
      await this.refreshSecurity();
      return !this.isOver;
    } catch (e) {
      const { reason, detail } = failureOf(e, this.view.peer);
      this.end(reason, detail);
      return false;
    }
  }

  private async refreshSecurity(): Promise<void> {
    const security = await this.deps.sessions.security(this.view.peer);
    this.update({ security });
  }

  private fingerprints(): Fingerprints | undefined {
    const d = this.link?.descriptions;
    const local = fingerprintOf(d?.local);
    const remote = fingerprintOf(d?.remote);
    return local && remote ? { local, remote } : undefined;
  }

  /** Our view of the DTLS fingerprints, inside the ratchet, once per call. */
  private async sendBinding(): Promise<void> {
    if (this.bindingSent || this.view.security?.keyChanged) return;
    const mine = this.fingerprints();
    if (!mine) return;
    this.bindingSent = true;
    await this.sendPayload({ type: 'binding', local: mine.local, remote: mine.remote });
  }

  private makeLink(): PeerLink {
    return new PeerLink(this.view.role, this.deps.iceServers, {
      signal: (data) => void this.deps.sendSignal(data),
      open: () => {
        clearTimeout(this.timer);
        this.update({ phase: 'chat' });
        void this.sendBinding().catch(() => this.end('security'));
      },
      message: (bytes) => {
        this.queue = this.queue.then(() => this.onEnvelope(bytes));
      },
      closed: (reason) => this.end(reason === 'failed' ? 'failed' : 'left'),
    });
  }

  private async onEnvelope(bytes: Uint8Array): Promise<void> {
    if (this.isOver) return;
    let opened;
    try {
      opened = await this.deps.sessions.open(this.view.peer, bytes);
    } catch (e) {
      if (isProtocolError(e, 'duplicate')) return;
      // Never shown as text: a failed message is only reported.
      this.system(`A message from ${this.view.peer} could not be decrypted and was dropped.`);
      return;
    }
    if (opened.keyChanged || !this.view.security?.safetyNumber) await this.refreshSecurity();
    this.onPayload(opened.payload);
  }

  private onPayload(p: Payload): void {
    switch (p.type) {
      case 'binding': {
        const mine = this.fingerprints();
        if (!mine || !bindingMatches(mine, p)) {
          this.link?.close();
          return this.end('intercepted');
        }
        this.update({ binding: 'verified' });
        return;
      }
      case 'text':
        if (this.view.messages.some((m) => m.id === p.id && m.from === 'peer')) return;
        this.update({ messages: [...this.view.messages, { id: p.id, from: 'peer', text: p.text, at: p.sentAt }] });
        return;
      case 'bye':
        this.link?.close();
        return this.end('left');
    }
  }

  private async sendPayload(p: Payload): Promise<boolean> {
    if (!this.link) return false;
    try {
      return this.link.send(await this.deps.sessions.seal(this.view.peer, p));
    } catch (e) {
      if (isProtocolError(e, 'identity_changed')) await this.refreshSecurity();
      return false;
    }
  }

  private system(text: string): void {
    this.update({ messages: [...this.view.messages, { id: newId(), from: 'system', text, at: Date.now() }] });
  }

  private arm(ms: number, reason: EndReason): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.isOver || this.view.phase === 'chat') return;
      if (reason === 'no-answer') this.deps.sendSignal({ kind: 'hangup' });
      this.link?.close();
      this.end(reason);
    }, ms);
  }

  private end(reason: EndReason, detail?: string): void {
    if (this.isOver) return;
    clearTimeout(this.timer);
    this.link?.close();
    this.update({ phase: 'ended', ended: { reason, text: endText(reason, this.view.peer, detail) } });
  }

  private update(patch: Partial<CallView>): void {
    this.view = { ...this.view, ...patch };
    this.deps.onChange(this.view);
  }
}
