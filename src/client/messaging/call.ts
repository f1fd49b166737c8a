// One call with one contact, from ringing to goodbye: the PeerLink for bytes, the call
// handshake for keys, and the chat on top. Every DataChannel frame is a validated peer frame
// and every chat message is sealed before it leaves; the link never sees plaintext.
// Frames are handled strictly one after another, because opening a box is asynchronous and
// the channel's sequence numbers must be checked in arrival order.
import { decodeBase64url, encodeBase64url, parseJson, parseWith, peerFrame, chatPayload, type ChatPayload, type PeerFrame, type SignalData } from '../../wire/index.ts';
import { fromUtf8, utf8 } from '../../crypto/bytes.ts';
import { webRandom } from '../../crypto/random.ts';
import { beginCallHandshake, type CallHandshake, type SecureChannel } from '../../protocol/call-session.ts';
import type { LocalIdentity, PublicIdentity } from '../../protocol/identity.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { PeerLink } from '../transport/peer-link.ts';

export type CallPhase = 'calling' | 'incoming' | 'connecting' | 'securing' | 'chat' | 'ended';

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
  | 'error';

export interface ChatMessage {
  id: string;
  from: 'me' | 'peer';
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
}

export interface CallDeps {
  me: LocalIdentity;
  iceServers: RTCIceServer[];
  fetchPeerIdentity(username: string): Promise<PublicIdentity>;
  sendSignal(data: SignalData): boolean;
  onChange(view: CallView): void;
}

const RING_TIMEOUT_MS = 45_000;
const CONNECT_TIMEOUT_MS = 30_000;

/** The directory has no such user; shown in the same words as "offline" on purpose. */
export class PeerUnavailableError extends Error {
  override name = 'PeerUnavailableError';
}

function failureOf(e: unknown): { reason: EndReason; detail?: string } {
  if (e instanceof PeerUnavailableError) return { reason: 'unavailable', detail: e.message };
  if (e instanceof ProtocolError) return { reason: 'security' };
  return { reason: 'error', detail: e instanceof Error && e.name === 'ApiError' ? e.message : undefined };
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
    case 'error':
      return detail ?? 'Something went wrong with this call.';
  }
}

export class Call {
  private view: CallView;
  private link: PeerLink | undefined;
  private handshake: CallHandshake | undefined;
  private channel: SecureChannel | undefined;
  private peerIdentity: PublicIdentity | undefined;
  private pendingOffer: string | undefined;
  private readonly earlySignals: SignalData[] = [];
  private queue: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    id: string,
    peer: string,
    role: 'caller' | 'callee',
    private readonly deps: CallDeps,
  ) {
    this.view = { id, peer, role, phase: role === 'caller' ? 'calling' : 'incoming', messages: [] };
  }

  get snapshot(): CallView {
    return this.view;
  }

  get isOver(): boolean {
    return this.view.phase === 'ended';
  }

  /** Caller: look up the contact's keys and send the offer. */
  async dial(): Promise<void> {
    try {
      this.peerIdentity = await this.deps.fetchPeerIdentity(this.view.peer);
      this.handshake = await this.beginHandshake();
    } catch (e) {
      const { reason, detail } = failureOf(e);
      return this.end(reason, detail);
    }
    if (this.isOver) return;
    this.link = this.makeLink();
    await this.link.start();
    this.arm(RING_TIMEOUT_MS, 'no-answer');
  }

  /** Callee: the offer that rang, kept until the person decides. */
  ring(offerSdp: string): void {
    this.pendingOffer = offerSdp;
    this.arm(RING_TIMEOUT_MS, 'cancelled');
  }

  async accept(): Promise<void> {
    if (this.view.phase !== 'incoming' || !this.pendingOffer) return;
    this.update({ phase: 'connecting' });
    try {
      this.peerIdentity = await this.deps.fetchPeerIdentity(this.view.peer);
      this.handshake = await this.beginHandshake();
    } catch (e) {
      this.deps.sendSignal({ kind: 'hangup' });
      const { reason, detail } = failureOf(e);
      return this.end(reason, detail);
    }
    if (this.isOver) return;
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
    if (this.channel && this.link?.isOpen) {
      // Best effort: tell the peer inside the channel, then close it.
      void this.sealAndSend({ type: 'bye' }).finally(() => this.link?.close());
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
    if (this.view.phase !== 'chat') return false;
    const message: ChatMessage = { id: newId(), from: 'me', text, at: Date.now() };
    const sent = await this.sealAndSend({ type: 'text', id: message.id, text, sentAt: message.at });
    if (sent) this.update({ messages: [...this.view.messages, message] });
    return sent;
  }

  private beginHandshake(): Promise<CallHandshake> {
    return beginCallHandshake({ role: this.view.role, callId: this.view.id, me: this.deps.me, peer: this.peerIdentity!, random: webRandom });
  }

  private makeLink(): PeerLink {
    return new PeerLink(this.view.role, this.deps.iceServers, {
      signal: (data) => void this.deps.sendSignal(data),
      open: () => {
        this.update({ phase: 'securing' });
        this.link!.send(JSON.stringify({ t: 'hello', v: 0, eph: encodeBase64url(this.handshake!.ephemeralPublic) } satisfies PeerFrame));
      },
      message: (text) => {
        this.queue = this.queue.then(() => this.onPeerFrame(text)).catch(() => this.end('security'));
      },
      closed: (reason) => this.end(reason === 'failed' ? 'failed' : 'left'),
    });
  }

  private async onPeerFrame(text: string): Promise<void> {
    if (this.isOver) return;
    const parsed = parseWith(peerFrame, parseJson(text));
    if (!parsed.ok) throw new Error('malformed peer frame');
    const frame = parsed.value;
    if (frame.t === 'hello') {
      if (this.channel || !this.handshake) throw new Error('unexpected hello');
      this.channel = await this.handshake.complete(decodeBase64url(frame.eph)!);
      await this.sealAndSend({ type: 'confirm' });
      return;
    }
    if (!this.channel) throw new Error('box before handshake');
    const plaintext = await this.channel.open({ seq: frame.seq, iv: decodeBase64url(frame.iv)!, ct: decodeBase64url(frame.ct)! });
    const payload = parseWith(chatPayload, parseJson(fromUtf8(plaintext)));
    if (!payload.ok) throw new Error('malformed payload');
    this.onPayload(payload.value);
  }

  private onPayload(p: ChatPayload): void {
    switch (p.type) {
      case 'confirm':
        clearTimeout(this.timer);
        this.update({ phase: 'chat' });
        return;
      case 'text':
        if (this.view.phase !== 'chat') return;
        this.update({ messages: [...this.view.messages, { id: p.id, from: 'peer', text: p.text, at: p.sentAt }] });
        return;
      case 'bye':
        this.link?.close();
        return this.end('left');
    }
  }

  private async sealAndSend(payload: ChatPayload): Promise<boolean> {
    if (!this.channel || !this.link) return false;
    const box = await this.channel.seal(utf8(JSON.stringify(payload)));
    return this.link.send(JSON.stringify({ t: 'box', seq: box.seq, iv: encodeBase64url(box.iv), ct: encodeBase64url(box.ct) } satisfies PeerFrame));
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
