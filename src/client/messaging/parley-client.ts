// The one object the UI talks to. It owns the account session, the signaling socket and the
// current call, and publishes a single immutable state snapshot the UI renders. The UI never
// touches keys, sockets or the protocol; it calls these methods and reads `state`.
import { normalizeUsername, checkNewPassword, type SessionResponse, type SignalData } from '../../wire/index.ts';
import type { LocalIdentity } from '../../protocol/identity.ts';
import { ApiClient, ApiError } from '../platform/api-client.ts';
import { createIdentity, loadIdentity, saveIdentity } from '../platform/key-vault.ts';
import { BrowserProtocolStore } from '../platform/protocol-stores.ts';
import { SignalingClient, type SignalingState } from '../transport/signaling-client.ts';
import { Call, newId, type CallView } from './call.ts';
import { identityToWire, maintainKeys } from './key-maintenance.ts';
import { SessionManager } from './session-manager.ts';

export type { SignalingState };
export type { ContactSecurity } from './session-manager.ts';
export type { CallView, ChatMessage } from './call.ts';

export interface Notice {
  kind: 'error' | 'info';
  text: string;
}

export interface ParleyState {
  /** True until the first attempt to restore a session from the refresh cookie has finished. */
  booting: boolean;
  user: { id: string; username: string } | null;
  connection: SignalingState;
  call: CallView | null;
  notice: Notice | null;
  busy: boolean;
}

const INITIAL: ParleyState = { booting: true, user: null, connection: 'offline', call: null, notice: null, busy: false };

const KEY_MAINTENANCE_INTERVAL_MS = 6 * 3_600_000;

function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return 'Something went wrong. Please try again.';
}

export class ParleyClient {
  private current: ParleyState = INITIAL;
  private readonly listeners = new Set<() => void>();
  private readonly api = new ApiClient();
  private signaling: SignalingClient | undefined;
  private identity: LocalIdentity | undefined;
  private sessions: SessionManager | undefined;
  private iceServers: RTCIceServer[] = [];
  private call: Call | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private maintenanceTimer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly origin: string = location.origin) {
    this.api.onSession = (s) => this.scheduleRefresh(s);
  }

  get state(): ParleyState {
    return this.current;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): ParleyState => this.current;

  private set(patch: Partial<ParleyState>): void {
    this.current = { ...this.current, ...patch };
    for (const l of this.listeners) l();
  }

  /** On page load: resume the session the refresh cookie still holds, if any. */
  async restore(): Promise<void> {
    try {
      const session = await this.api.refresh();
      await this.enter(session);
    } catch {
      // No session: show the sign-in screen.
    } finally {
      this.set({ booting: false });
    }
  }

  async signup(username: string, password: string): Promise<boolean> {
    const name = normalizeUsername(username);
    if (!name.ok) return this.fail(name.message);
    const pw = checkNewPassword(password);
    if (!pw.ok) return this.fail(pw.message);
    return this.withBusy(async () => {
      const identity = await createIdentity();
      const session = await this.api.signup(name.username, password, identityToWire(identity));
      await saveIdentity(session.user.id, identity);
      await this.enter(session, identity);
    });
  }

  async login(username: string, password: string): Promise<boolean> {
    if (!username.trim() || !password) return this.fail('Enter your username and password.');
    return this.withBusy(async () => {
      const session = await this.api.login(username, password);
      await this.enter(session);
    });
  }

  async logout(): Promise<void> {
    this.call?.hangup();
    this.call = undefined;
    clearTimeout(this.refreshTimer);
    clearInterval(this.maintenanceTimer);
    this.signaling?.disconnect();
    this.signaling = undefined;
    await this.api.logout();
    this.identity = undefined;
    this.sessions = undefined;
    this.set({ user: null, call: null, connection: 'offline', notice: { kind: 'info', text: 'You are logged out.' } });
  }

  connect(): void {
    this.signaling?.connect();
  }

  dismissNotice(): void {
    this.set({ notice: null });
  }

  async startCall(peerInput: string): Promise<void> {
    const name = normalizeUsername(peerInput);
    if (!name.ok) return void this.fail(name.message);
    if (!this.current.user || !this.sessions || !this.signaling) return;
    if (name.username === this.current.user.username) return void this.fail('You cannot call yourself.');
    if (this.current.connection !== 'connected') return void this.fail('You are not connected to the Parley server. Press Connect and try again.');
    if (this.call && !this.call.isOver) return void this.fail('End the current chat first.');
    this.set({ notice: null });
    const call = this.makeCall(newId(), name.username, 'caller');
    await call.dial();
  }

  accept(): Promise<void> {
    return this.call?.accept() ?? Promise.resolve();
  }

  decline(): void {
    this.call?.decline();
  }

  hangup(): void {
    this.call?.hangup();
  }

  /** Accepts the current contact's new safety number, unblocking sending. */
  async acceptNewSafetyNumber(): Promise<void> {
    await this.call?.acceptNewKey();
  }

  async setVerified(verified: boolean): Promise<void> {
    await this.call?.setVerified(verified);
  }

  /** Clears an ended call from the screen. */
  closeCall(): void {
    if (this.call?.isOver) {
      this.call = undefined;
      this.set({ call: null });
    }
  }

  async send(text: string): Promise<boolean> {
    const trimmed = text.trim();
    if (!trimmed || !this.call) return false;
    const ok = await this.call.send(trimmed);
    if (!ok) this.fail('The message could not be sent: the chat is not connected.');
    return ok;
  }

  private async enter(session: SessionResponse, fresh?: LocalIdentity): Promise<void> {
    const identity = fresh ?? (await this.ensureIdentity(session));
    this.identity = identity;
    const store = new BrowserProtocolStore(session.user.id, identity);
    this.sessions = new SessionManager({ username: session.user.username, identity }, store, this.api);
    this.iceServers = (await this.api.config().catch(() => ({ iceServers: [] }))).iceServers;
    this.set({ user: session.user, notice: null });
    const maintain = () =>
      maintainKeys(this.api, store, identity).catch(() => {
        this.set({ notice: { kind: 'error', text: 'Your keys could not be published. Others may not be able to reach you; Parley will try again.' } });
      });
    // Keys must be in the directory before anyone can start a session with us.
    await maintain();
    clearInterval(this.maintenanceTimer);
    this.maintenanceTimer = setInterval(() => void maintain(), KEY_MAINTENANCE_INTERVAL_MS);
    const wsUrl = this.origin.replace(/^http/, 'ws') + '/ws';
    this.signaling = new SignalingClient(wsUrl, () => this.api.token(), {
      state: (state, detail) => {
        this.set({ connection: state, ...(detail ? { notice: { kind: 'info' as const, text: detail } } : {}) });
      },
      signal: (from, callId, data) => this.onSignal(from, callId, data),
      error: (code, message, callId) => {
        if (callId && this.call?.snapshot.id === callId) this.call.unreachable(message);
        else if (code !== 'rate_limited') this.set({ notice: { kind: 'error', text: message } });
      },
    });
    this.signaling.connect();
  }

  /**
   * This browser's identity keys for the account. A browser without them (a new device, cleared
   * storage) makes new ones, as reinstalling a phone app does; key maintenance then publishes
   * them, and contacts see that the safety number changed.
   */
  private async ensureIdentity(session: SessionResponse): Promise<LocalIdentity> {
    const existing = await loadIdentity(session.user.id);
    if (existing) return existing;
    const identity = await createIdentity();
    await saveIdentity(session.user.id, identity);
    return identity;
  }

  private makeCall(id: string, peer: string, role: 'caller' | 'callee'): Call {
    const call = new Call(id, peer, role, {
      sessions: this.sessions!,
      iceServers: this.iceServers,
      sendSignal: (data) => this.signaling?.send({ type: 'signal', to: peer, callId: id, data }) ?? false,
      onChange: (view) => {
        if (this.call === call) this.set({ call: view });
      },
    });
    this.call = call;
    this.set({ call: call.snapshot });
    return call;
  }

  private onSignal(from: string, callId: string, data: SignalData): void {
    if (this.call && this.call.snapshot.id === callId && this.call.snapshot.peer === from) {
      void this.call.handleSignal(data);
      return;
    }
    if (data.kind !== 'offer') return;
    if (this.call && !this.call.isOver) {
      this.signaling?.send({ type: 'signal', to: from, callId, data: { kind: 'decline', reason: 'busy' } });
      return;
    }
    const call = this.makeCall(callId, from, 'callee');
    call.ring(data.sdp);
  }

  private scheduleRefresh(session: SessionResponse): void {
    clearTimeout(this.refreshTimer);
    this.signaling?.reauthenticate(session.accessToken);
    this.refreshIn(Math.max(5_000, session.expiresAt - Date.now() - 60_000));
  }

  private refreshIn(delay: number): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      this.api.refresh().catch((e: unknown) => {
        if (e instanceof ApiError && e.code === 'unauthorized') {
          void this.logout().then(() => this.fail('Your session ended. Please log in again.'));
        } else if (this.current.user) {
          // The server is unreachable; a chat already open goes on without it. Try again later.
          this.refreshIn(15_000);
        }
      });
    }, delay);
  }

  private fail(text: string): false {
    this.set({ notice: { kind: 'error', text } });
    return false;
  }

  private async withBusy(job: () => Promise<void>): Promise<boolean> {
    this.set({ busy: true, notice: null });
    try {
      await job();
      return true;
    } catch (e) {
      return this.fail(messageOf(e));
    } finally {
      this.set({ busy: false });
    }
  }
}
