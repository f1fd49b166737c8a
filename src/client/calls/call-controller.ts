// Which call is on, for the rest of the client: it starts one, decides whether an incoming
// invitation rings (a contact, with a safety number that has not changed, while no other call is
// on) or only leaves a missed call in the conversation (someone who is not a contact: a message
// request rings nobody), answers "busy", and writes each call's line when it ends. One call at
// a time. Invitations are opened through the contact's session (the inbox), so the server
// cannot ring anyone in anyone's name, nor swap the DTLS fingerprint the invitation names.
import { decodeBase64url, encodeBase64url, type CallMedia, type Payload, type SignalData } from '../../wire/index.ts';
import type { CallLog } from '../platform/history-store.ts';
import type { IceConfig } from '../messaging/ice-source.ts';
import { newId } from '../messaging/ids.ts';
import { callLine, outcomeOf } from './call-log.ts';
import type { CallView, EndReason } from './call-types.ts';
import { MediaCall } from './media-call.ts';
import { fingerprintOf } from '../messaging/channel-binding.ts';
import type { GetUserMedia } from './local-media.ts';

// Several browsers per account (issue #17): a call rings every browser of the callee. Signals,
// seals and envelopes name a session address (messaging/device-directory.ts: the username for a
// person's browser 1, `name#device` for another); everything the person sees names the username.
// The caller sends the same offer to each browser, each with its own sealed invitation; the
// first answer picks the browser the call goes on with, and the others are told it was answered.

export interface CallControllerDeps {
  ice(): Promise<IceConfig | undefined>;
  sendSignal(address: string, callId: string, data: SignalData): boolean;
  seal(address: string, p: Payload): Promise<Uint8Array>;
  /** Opens an envelope from `address` through the inbox; `via` takes the payloads that belong to the call. */
  open(address: string, bytes: Uint8Array, via: (p: Payload) => boolean): Promise<void>;
  /** The addresses of every browser of `peer` a call should ring. */
  browsers(peer: string): Promise<string[]>;
  /** Whether sending to `peer` is held by an unaccepted safety number (checked from the store). */
  keyChanged(peer: string): Promise<boolean>;
  /** The same, as the open conversation shows it now (a connection checks it synchronously). */
  blocked(peer: string): boolean;
  isContact(peer: string): boolean;
  isBlocked(peer: string): boolean;
  mutual(peer: string): boolean;
  log(peer: string, id: string, direction: 'out' | 'in', at: number, log: CallLog, text: string): Promise<void>;
  /** A desktop notification while the tab is hidden. */
  notify(peer: string, body: string): void;
  notice(kind: 'error' | 'info', text: string): void;
  changed(): void;
  getUserMedia?: GetUserMedia;
}

interface PendingOffer {
  from: string;
  address: string;
  sdp: string;
  signals: SignalData[];
  cancelled: boolean;
}

/** Offers waiting for their invite to be opened; more than this at once are dropped oldest first. */
const MAX_PENDING = 8;

/** Ends that the caller or callee should hear about loudly (role alert) rather than as a quiet line. */
const ALERT_REASONS: ReadonlySet<EndReason> = new Set(['intercepted', 'no-relay', 'not-sent', 'failed', 'no-path']);
/** Ends the caller is told of in words (role status), besides the line in the conversation. */
const TOLD_REASONS: ReadonlySet<EndReason> = new Set(['declined', 'busy', 'unavailable', 'no-answer']);

/** Where the current call's signals go: every browser rung, until one answers. */
interface Route {
  rung: string[];
  chosen: string | undefined;
  /** The caller's sealed invitation for each browser rung. */
  invites?: Map<string, Uint8Array>;
}

export class CallController {
  private current: MediaCall | undefined;
  private route: Route | undefined;
  private readonly pending = new Map<string, PendingOffer>();

  constructor(private readonly deps: CallControllerDeps) {}

  /** The call on now, or the last one until another starts. */
  get view(): CallView | null {
    return this.current?.snapshot ?? null;
  }

  get live(): MediaCall | undefined {
    return this.current && !this.current.isOver ? this.current : undefined;
  }

  /** Rings `peer`. The caller has checked that a call may start (connected, not blocked, no other call). */
  async start(peer: string, media: CallMedia): Promise<void> {
    const id = newId();
    const relay = !this.deps.mutual(peer);
    const route: Route = { rung: [peer], chosen: undefined };
    const call = this.make({ id, peer, role: 'caller', media, relay }, route);
    this.current = call;
    this.route = route;
    this.deps.changed();
    route.rung = await this.deps.browsers(peer).catch(() => [peer]);
    if (route.rung.length === 0) route.rung = [peer];
    // One invitation per browser, sealed with its own session, all before the offer goes out.
    await call.dial(async (frameKey, fingerprint) => {
      const invite: Payload = { type: 'call-invite', callId: id, media, fingerprint, frameKey, relay };
      const sealed = await Promise.all(route.rung.map((a) => this.deps.seal(a, invite)));
      route.invites = new Map(route.rung.map((a, i) => [a, sealed[i]!]));
      return sealed[0]!;
    });
  }

  /** An offer from the signaling server. One with an invite is a call; the invite says which. */
  offer(from: string, callId: string, sdp: string, invite: string, address = from): void {
    const bytes = decodeBase64url(invite);
    if (!bytes) return;
    if (this.pending.size >= MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    this.pending.set(callId, { from, address, sdp, signals: [], cancelled: false });
    void this.deps
      .open(address, bytes, (p) => {
        if (p.type !== 'call-invite') return false;
        void this.invited(from, p, address);
        return true;
      })
      .catch(() => undefined)
      .finally(() => {
        // An invite that did not open (or named another call) leaves nothing waiting.
        if (this.pending.get(callId)?.from === from) this.pending.delete(callId);
      });
  }

  /** A signal for a call (from the browser at `address`); false if it is for none of ours. */
  handleSignal(from: string, callId: string, data: SignalData, address = from): boolean {
    const call = this.current;
    const route = this.route;
    if (call && route && call.snapshot.id === callId && call.snapshot.peer === from) {
      if (!route.chosen) {
        if (!route.rung.includes(address)) return true;
        if (data.kind === 'answer') {
          // The first browser to answer takes the call; the others stop ringing.
          route.chosen = address;
          for (const other of route.rung) if (other !== address) this.deps.sendSignal(other, callId, { kind: 'hangup', reason: 'answered' });
        } else if (data.kind === 'decline' && data.reason === 'busy' && route.rung.length > 1) {
          // That browser is in another call; the others may still answer.
          route.rung = route.rung.filter((a) => a !== address);
          return true;
        } else if (data.kind === 'decline' || data.kind === 'hangup') {
          for (const other of route.rung) if (other !== address) this.deps.sendSignal(other, callId, { kind: 'hangup' });
          route.chosen = address;
        } else if (data.kind === 'ice') return true; // candidates count only from the browser that answers
      } else if (address !== route.chosen) return true;
      void call.handleSignal(data);
      return true;
    }
    const p = this.pending.get(callId);
    if (p && p.from === from && p.address === address) {
      if (data.kind === 'hangup') p.cancelled = true;
      else p.signals.push(data);
      return true;
    }
    return false;
  }

  /** The server could not deliver a signal for `callId`. */
  unreachable(callId: string): boolean {
    if (this.current?.snapshot.id !== callId) return false;
    // With several browsers rung, one that is offline says nothing of the others: the call rings
    // until one answers or the ring times out.
    if ((this.route?.rung.length ?? 1) <= 1) this.current.unreachable();
    return true;
  }

  async accept(): Promise<void> {
    await this.current?.accept();
  }

  decline(): void {
    this.current?.decline();
  }

  hangup(): void {
    this.current?.hangup();
  }

  toggleMute(): void {
    this.live?.toggleMute();
  }

  async toggleCamera(): Promise<void> {
    await this.live?.toggleCamera();
  }

  async toggleScreen(): Promise<void> {
    await this.live?.toggleScreen();
  }

  networkChanged(): void {
    this.live?.networkChanged();
  }

  async unblocked(peer: string): Promise<void> {
    if (this.live?.snapshot.peer === peer) await this.live.unblocked();
  }

  /** `peer` was blocked: end any call with them. */
  drop(peer: string): void {
    if (this.live?.snapshot.peer === peer) this.live.hangup();
  }

  endAll(): void {
    this.live?.hangup();
    this.pending.clear();
  }

  private async invited(from: string, p: Extract<Payload, { type: 'call-invite' }>, address: string): Promise<void> {
    const offer = this.pending.get(p.callId);
    if (!offer || offer.from !== from || offer.address !== address) return; // an invite must come with its own offer
    this.pending.delete(p.callId);
    const d = this.deps;
    if (d.isBlocked(from)) return;
    const missed = (outcome: CallLog['outcome']) => {
      const log: CallLog = { media: p.media, outcome, durationMs: 0 };
      void d.log(from, p.callId, 'in', Date.now(), log, callLine(log, 'in', from));
    };
    if (offer.cancelled) return missed('missed');
    // The offer must name the certificate the caller sealed: otherwise someone on the way
    // swapped it to sit between the two browsers. Nothing rings; both sides are told.
    if (fingerprintOf(offer.sdp) !== p.fingerprint) {
      d.sendSignal(address, p.callId, { kind: 'decline', reason: 'mismatch' });
      const log: CallLog = { media: p.media, outcome: 'intercepted', durationMs: 0 };
      void d.log(from, p.callId, 'in', Date.now(), log, callLine(log, 'in', from));
      d.notice('error', `A call from ${from} was refused: its connection details were changed on the way, which means someone may be trying to intercept it.`);
      return;
    }
    // Someone who is not a contact is a message request: their call rings nobody, and their
    // browser learns nothing (no answer, no address); the request shows the missed call.
    if (!d.isContact(from)) return missed('missed');
    // A changed safety number stops calls as it stops messages, until it is accepted.
    if (await d.keyChanged(from)) {
      missed('missed');
      d.notice('error', `${from} called, but your safety number with them has changed. Check it and accept it before you talk.`);
      return;
    }
    if (this.live) {
      d.sendSignal(address, p.callId, { kind: 'decline', reason: 'busy' });
      missed('busy');
      d.notice('info', `${from} called while you were in another call.`);
      return;
    }
    const route: Route = { rung: [address], chosen: address };
    const call = this.make({ id: p.callId, peer: from, role: 'callee', media: p.media, relay: p.relay || !d.mutual(from) }, route);
    this.current = call;
    this.route = route;
    call.ring(offer.sdp, p.frameKey, (frameKey, fingerprint) => d.seal(address, { type: 'call-accept', callId: p.callId, fingerprint, frameKey }));
    for (const s of offer.signals) void call.handleSignal(s);
    this.deps.changed();
    d.notify(from, p.media === 'video' ? 'Incoming video call' : 'Incoming voice call');
  }

  private make(setup: { id: string; peer: string; role: 'caller' | 'callee'; media: CallMedia; relay: boolean }, route: Route): MediaCall {
    const d = this.deps;
    const { id, peer } = setup;
    // Until a browser answers, what the caller sends goes to every browser rung (each offer with
    // that browser's own invitation); afterwards, and always for the callee, to one.
    const at = () => route.chosen ?? route.rung[0]!;
    const sendSignal = (data: SignalData): boolean => {
      if (route.chosen) return d.sendSignal(route.chosen, id, data);
      const sealed = data.kind === 'offer' ? route.invites : undefined;
      let any = false;
      for (const a of route.rung) {
        const own = sealed?.get(a);
        if (d.sendSignal(a, id, own && data.kind === 'offer' ? { ...data, sealed: encodeBase64url(own) } : data)) any = true;
      }
      return any;
    };
    const call: MediaCall = new MediaCall(setup, {
      ice: () => d.ice(),
      sendSignal,
      seal: (p) => d.seal(at(), p),
      blocked: () => d.blocked(peer),
      openSealed: async (bytes) => {
        let opened: Payload | undefined;
        await d
          .open(at(), bytes, (p) => {
            if (p.type !== 'call-accept') return false;
            opened = p;
            return true;
          })
          .catch(() => undefined);
        return opened;
      },
      envelope: (bytes) =>
        void d
          .open(at(), bytes, (p) => {
            if (p.type !== 'binding' && p.type !== 'bye' && p.type !== 'call-state') return false;
            call.onControl(p);
            return true;
          })
          .catch(() => undefined),
      changed: () => {
        if (this.current === call) d.changed();
      },
      ended: (view, durationMs) => {
        const reason = view.ended!.reason;
        // The browser that answered keeps the call's line; this one stops ringing and says why.
        if (reason === 'answered-elsewhere') return d.notice('info', view.ended!.text);
        const log: CallLog = { media: view.media, outcome: outcomeOf(reason, view.role, durationMs), durationMs };
        const direction = view.role === 'caller' ? 'out' : 'in';
        void d.log(peer, id, direction, Date.now(), log, callLine(log, direction, peer));
        if (ALERT_REASONS.has(reason)) d.notice('error', view.ended!.text);
        else if (view.role === 'caller' && TOLD_REASONS.has(reason)) d.notice('info', view.ended!.text);
      },
      ...(d.getUserMedia ? { getUserMedia: d.getUserMedia } : {}),
    });
    return call;
  }
}
