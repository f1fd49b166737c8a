// Watches one call's peer connection and says what to show and when to act (issue #7):
// "connecting" until a path is found, then "direct" or "relayed" (re-read from getStats while
// connected, since ICE may move to another pair), "reconnecting" while the path is lost, and
// "gives up" when no path was found, or found again, within NO_PATH_MS. It asks for an ICE
// restart when the connection fails, a little after it goes quiet ("disconnected" often heals
// by itself), when the network changes, and again every RESTART_RETRY_MS while reconnecting.
// It knows nothing of RTCPeerConnection, signaling or messages: the call wires those in.
import type { PathKind } from '../transport/selected-path.ts';

export type PathState = 'connecting' | PathKind | 'reconnecting';
export type GiveUpReason = 'no-path' | 'lost';

export interface ConnectionWatchDeps {
  /** Reads which path the connection uses now. */
  path(): Promise<PathKind | undefined>;
  /** Restart ICE: the caller sends a new offer, the callee asks the caller for one. */
  restart(): void;
  changed(state: PathState): void;
  giveUp(reason: GiveUpReason): void;
}

/** Without a path for this long (from the start, or since it was lost), the call gives up: under 15 s in all. */
export const NO_PATH_MS = 12_000;
/** "disconnected" often recovers by itself within a second or two: wait this long before restarting. */
export const DISCONNECT_GRACE_MS = 2_000;
/** While reconnecting, restart again this often (a restart offer can be lost, or come too early). */
export const RESTART_RETRY_MS = 4_000;
/** Restarts closer together than this are merged. */
export const RESTART_MIN_GAP_MS = 1_500;
/** How often the selected path is re-read while connected. */
export const PATH_POLL_MS = 3_000;

type Timer = ReturnType<typeof setTimeout>;

export class ConnectionWatch {
  private current: PathState = 'connecting';
  private connected = false;
  private everConnected = false;
  private stopped = false;
  private deadline: Timer | undefined;
  private restartTimer: Timer | undefined;
  private poll: ReturnType<typeof setInterval> | undefined;
  private lastRestart = Number.NEGATIVE_INFINITY;
  private restartAt = 0;
  private restartOnlyIfDown = false;

  constructor(private readonly deps: ConnectionWatchDeps) {}

  get state(): PathState {
    return this.current;
  }

  /** The connection attempt begins (the callee accepted, or the caller got the answer). */
  start(): void {
    if (this.stopped || this.deadline !== undefined || this.everConnected) return;
    this.deadline = setTimeout(() => this.finish('no-path'), NO_PATH_MS);
  }

  connectionState(state: RTCPeerConnectionState): void {
    if (this.stopped) return;
    if (state === 'connected') this.onConnected();
    else if (state === 'disconnected') this.onLost(false);
    else if (state === 'failed') this.onLost(true);
  }

  /** The browser came back online, maybe on another network: look for a path again now. */
  networkChanged(): void {
    if (this.stopped || (!this.everConnected && this.deadline === undefined)) return;
    this.restartSoon(0);
  }

  /** The callee asked for a restart (caller side). */
  restartRequested(): void {
    if (!this.stopped) this.restartSoon(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.deadline);
    clearTimeout(this.restartTimer);
    clearInterval(this.poll);
  }

  private onConnected(): void {
    this.connected = true;
    this.everConnected = true;
    clearTimeout(this.deadline);
    this.deadline = undefined;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    void this.readPath();
    this.poll ??= setInterval(() => void this.readPath(), PATH_POLL_MS);
  }

  private onLost(failed: boolean): void {
    this.connected = false;
    if (this.everConnected) {
      this.set('reconnecting');
      this.deadline ??= setTimeout(() => this.finish('lost'), NO_PATH_MS);
    }
    // Before any path: "failed" means every pair failed; one restart may still find one in time.
    if (failed) this.restartSoon(0, true);
    else if (this.everConnected) this.restartSoon(DISCONNECT_GRACE_MS, true);
  }

  /**
   * Restarts after `delay` (at least RESTART_MIN_GAP_MS after the last one). `onlyIfDown`: skip it
   * if the connection has healed meanwhile; a network change restarts even a working connection.
   */
  private restartSoon(delay: number, onlyIfDown = false): void {
    const at = Math.max(Date.now() + delay, this.lastRestart + RESTART_MIN_GAP_MS);
    if (this.restartTimer !== undefined) {
      if (at >= this.restartAt) {
        this.restartOnlyIfDown &&= onlyIfDown;
        return;
      }
      clearTimeout(this.restartTimer);
    }
    this.restartAt = at;
    this.restartOnlyIfDown = onlyIfDown;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped || (this.restartOnlyIfDown && this.connected)) return;
      this.lastRestart = Date.now();
      this.deps.restart();
      if (!this.connected && this.everConnected) this.restartSoon(RESTART_RETRY_MS, true);
    }, at - Date.now());
  }

  private async readPath(): Promise<void> {
    const kind = await this.deps.path().catch(() => undefined);
    if (this.stopped || !this.connected || !kind) return;
    this.set(kind);
  }

  private set(state: PathState): void {
    if (this.current === state) return;
    this.current = state;
    this.deps.changed(state);
  }

  private finish(reason: GiveUpReason): void {
    if (this.stopped) return;
    this.stop();
    this.deps.giveUp(reason);
  }
}
