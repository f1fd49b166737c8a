// The background direct channels (issue #16): with a mutual contact who is online, a
// conversation that is opened or written to sets up a WebRTC DataChannel without ringing
// anyone; until it is up, and whenever it is not, messages go through the server's queue. With
// anyone else nothing peer-to-peer happens: a stranger learns no address from a chat. When
// both ends start at once, the offer of the alphabetically first username wins. Knows nothing
// of messages: it hands frames up and says when a channel opens or closes.
import type { Payload, SignalData } from '../../wire/index.ts';
import { BoundConnection, type ConnectionEnd, type PathState } from './bound-connection.ts';
import { NO_ICE, type IceConfig } from './ice-source.ts';
import { newId } from './ids.ts';

export interface LinkView {
  peer: string;
  phase: 'connecting' | 'open' | 'ended';
  path: PathState;
  binding: 'pending' | 'verified';
  ended?: ConnectionEnd;
}

export interface LinkManagerDeps {
  me(): string;
  /** Both added each other and neither blocks the other: the only people a channel is opened with. */
  mutual(peer: string): boolean;
  online(peer: string): boolean;
  /** The signaling socket is up. */
  ready(): boolean;
  /** The conversation is on screen: a lost channel is worth setting up again. */
  interested(peer: string): boolean;
  ice(): Promise<IceConfig | undefined>;
  sendSignal(peer: string, id: string, data: SignalData): boolean;
  seal(peer: string, p: Payload): Promise<Uint8Array>;
  blocked(peer: string): boolean;
  /** A frame from `peer`'s channel; `via` takes the channel's own payloads (binding, goodbye). */
  message(peer: string, bytes: Uint8Array, via: (p: Payload) => boolean): void;
  /** The channel can carry messages (true), or cannot, for now or for good (false). */
  channel(peer: string, open: boolean): void;
  changed(peer: string): void;
}

/** Channels kept at once; the least recently used one goes first. */
export const MAX_LINKS = 8;
/** An offer not answered in this time is given up (the contact may not have us as a contact any more). */
export const ANSWER_WAIT_MS = 15_000;
/** After a channel fails or finds no path, wait this long before trying again. */
export const RETRY_FAILED_MS = 30_000;
/** After the contact closed it (a reload, say), try again this soon if the conversation is on screen. */
export const RETRY_LEFT_MS = 3_000;

interface Entry {
  id: string;
  conn: BoundConnection;
  view: LinkView;
  usedAt: number;
  answerTimer?: ReturnType<typeof setTimeout>;
}

export class LinkManager {
  private readonly links = new Map<string, Entry>();
  private readonly notBefore = new Map<string, number>();
  private readonly retryTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly deps: LinkManagerDeps) {}

  view(peer: string): LinkView | null {
    return this.links.get(peer)?.view ?? null;
  }

  /** The open channel to `peer`, if there is one. */
  channel(peer: string): BoundConnection['channel'] {
    const e = this.links.get(peer);
    if (e) e.usedAt = Date.now();
    return e?.conn.channel;
  }

  owns(peer: string, id: string): boolean {
    return this.links.get(peer)?.id === id;
  }

  /** Sets up a channel to `peer` if it makes sense now and there is none. */
  want(peer: string): void {
    const d = this.deps;
    const current = this.links.get(peer);
    if (current && current.view.phase !== 'ended') {
      current.usedAt = Date.now();
      return;
    }
    if (!d.ready() || !d.mutual(peer) || !d.online(peer)) return;
    if (Date.now() < (this.notBefore.get(peer) ?? 0)) return;
    const entry = this.add(peer, newId(), 'caller');
    entry.answerTimer = setTimeout(() => {
      if (entry.view.phase === 'connecting' && !entry.conn.peerLink?.descriptions.remote) this.giveUp(entry);
    }, ANSWER_WAIT_MS);
    void (async () => {
      const ice = (await d.ice()) ?? NO_ICE;
      await entry.conn.start(ice);
    })().catch(() => this.giveUp(entry));
  }

  /** An offer without an invite: the contact sets up a channel to us. */
  offer(peer: string, id: string, sdp: string): void {
    const d = this.deps;
    if (!d.mutual(peer)) return; // a stranger gets no answer, and so no address
    const current = this.links.get(peer);
    if (current && current.view.phase !== 'ended') {
      // Both started at once: the offer from the first name in order wins on both sides.
      if (current.conn.role === 'caller' && current.view.phase === 'connecting' && d.me() < peer) return;
      this.close(peer);
    }
    const entry = this.add(peer, id, 'callee');
    void (async () => {
      const ice = (await d.ice()) ?? NO_ICE;
      await entry.conn.answer(sdp, ice);
    })().catch(() => this.giveUp(entry));
  }

  handleSignal(peer: string, id: string, data: SignalData): void {
    const e = this.links.get(peer);
    if (e?.id === id) void e.conn.handleSignal(data).catch(() => undefined);
  }

  /** The server could not hand our offer to `peer`. */
  unreachable(peer: string, id: string): void {
    const e = this.links.get(peer);
    if (e?.id === id && e.view.phase === 'connecting') this.giveUp(e);
  }

  /** Closes the channel to `peer` (the contact was removed or blocked, or the user logs out). */
  close(peer: string): void {
    const e = this.links.get(peer);
    if (!e) return;
    clearTimeout(e.answerTimer);
    e.conn.close();
    this.links.delete(peer);
  }

  closeAll(): void {
    for (const peer of [...this.links.keys()]) this.close(peer);
    for (const t of this.retryTimers.values()) clearTimeout(t);
    this.retryTimers.clear();
  }

  networkChanged(): void {
    for (const e of this.links.values()) e.conn.networkChanged();
  }

  async unblocked(peer: string): Promise<void> {
    await this.links.get(peer)?.conn.unblocked();
  }

  private add(peer: string, id: string, role: 'caller' | 'callee'): Entry {
    this.evict();
    const d = this.deps;
    const view: LinkView = { peer, phase: 'connecting', path: 'connecting', binding: 'pending' };
    const entry: Entry = { id, view, usedAt: Date.now(), conn: undefined as unknown as BoundConnection };
    const set = (patch: Partial<LinkView>) => {
      entry.view = { ...entry.view, ...patch };
      if (this.links.get(peer) === entry) d.changed(peer);
    };
    const via = (p: Payload): boolean => {
      if (p.type === 'binding') entry.conn.onBinding(p);
      else if (p.type === 'bye') entry.conn.onBye(p);
      else return false;
      return true;
    };
    entry.conn = new BoundConnection(
      role,
      { policy: 'all' },
      {
        ice: () => d.ice(),
        sendSignal: (data) => void d.sendSignal(peer, id, data),
        seal: (p) => d.seal(peer, p),
        blocked: () => d.blocked(peer),
        message: (bytes) => d.message(peer, bytes, via),
        opened: () => {
          clearTimeout(entry.answerTimer);
          set({ phase: 'open' });
          if (this.links.get(peer) === entry) d.channel(peer, true);
        },
        bound: () => set({ binding: 'verified' }),
        pathChanged: (path) => {
          const was = entry.view.path;
          set({ path });
          if (entry.view.phase !== 'open' || this.links.get(peer) !== entry) return;
          // While reconnecting, new messages go through the server and unconfirmed ones are resent there.
          if (path === 'reconnecting') d.channel(peer, false);
          else if (was === 'reconnecting') d.channel(peer, true);
        },
        ended: (reason) => {
          clearTimeout(entry.answerTimer);
          const wasOpen = entry.view.phase === 'open';
          set({ phase: 'ended', ended: reason });
          if (this.links.get(peer) !== entry) return;
          if (wasOpen) d.channel(peer, false);
          if (reason === 'closed') return;
          this.retryLater(peer, reason === 'left' ? RETRY_LEFT_MS : RETRY_FAILED_MS);
        },
      },
    );
    this.links.set(peer, entry);
    d.changed(peer);
    return entry;
  }

  private giveUp(entry: Entry): void {
    const peer = entry.view.peer;
    if (this.links.get(peer) !== entry) return;
    entry.conn.close();
    entry.view = { ...entry.view, phase: 'ended', ended: 'no-path' };
    this.retryLater(peer, RETRY_FAILED_MS);
    this.deps.changed(peer);
  }

  private retryLater(peer: string, ms: number): void {
    this.notBefore.set(peer, Date.now() + ms);
    clearTimeout(this.retryTimers.get(peer));
    this.retryTimers.set(
      peer,
      setTimeout(() => {
        this.retryTimers.delete(peer);
        if (this.deps.interested(peer)) this.want(peer);
      }, ms),
    );
  }

  private evict(): void {
    const live = [...this.links.entries()].filter(([, e]) => e.view.phase !== 'ended');
    for (const [peer, e] of this.links) if (e.view.phase === 'ended') this.links.delete(peer);
    if (live.length < MAX_LINKS) return;
    live.sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [peer] of live.slice(0, live.length - MAX_LINKS + 1)) {
      if (!this.deps.interested(peer)) this.close(peer);
    }
  }
}
