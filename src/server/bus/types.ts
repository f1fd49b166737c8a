// Routes frames to wherever a user's socket is. In one process that is a Map; across many
// processes (scale-out) it is Redis pub/sub with presence keys. The signaling code names only
// this interface, never the adapter.

export interface Endpoint {
  /** Write an already-serialised frame to the socket. */
  send(frameText: string): void;
  /** Close the socket with a WebSocket close code and reason. */
  close(code: number, reason: string): void;
  /** New envelopes are waiting in the offline queue for this user. */
  onQueue(): void;
}

/** Where a bus reports trouble it has worked around (pino's logger fits). */
export interface BusLog {
  warn(details: object, message: string): void;
}

export interface Bus {
  /**
   * Makes `endpoint` the one connection of `userId`. One device per account (DESIGN.md), so an
   * older connection of the same user, in this process or another, is closed with
   * `replacedCode`. Resolves once other processes can route to the new connection.
   */
  attach(userId: string, endpoint: Endpoint, replacedCode: number): Promise<void>;
  /**
   * `endpoint` of `userId` is gone (its socket closed). Does nothing if a newer connection of the
   * user has replaced it since, here or in another process. No object per attachment: a relay
   * holds tens of thousands.
   */
  detach(userId: string, endpoint: Endpoint): void;
  /**
   * Hands the frame to a connection of `userId` held by this very process, at once; false if
   * this process holds none (then `deliver` finds it elsewhere, or not at all).
   */
  deliverHere(userId: string, frameText: string): boolean;
  /** Resolves true if a connection of `userId` was handed the frame. */
  deliver(userId: string, frameText: string): Promise<boolean>;
  /** Tells the connection of `userId`, wherever it is, that its offline queue has new envelopes. */
  notifyQueue(userId: string): Promise<void>;
  /**
   * Tells every process, this one included, that `ownerId` blocked or unblocked someone, so
   * that caches of who blocks whom (block-cache.ts) drop what they knew. Resolves once sent.
   */
  blocksChanged(ownerId: string): Promise<void>;
  /**
   * Registers a listener for `blocksChanged`. It is called with undefined when changes may
   * have been missed (the link to the other processes dropped): forget everything then.
   */
  onBlocksChanged(listener: (ownerId: string | undefined) => void): void;
  /** Whether a change made by another process reaches this one right now (always, in one process). */
  readonly hearsChanges: boolean;
  /**
   * Whether an announced change can be missed even while `hearsChanges` holds: over Redis, a
   * publish that failed to go out. Never in one process, where announcing is a function call.
   */
  readonly mayMissChanges: boolean;
  /** Closes every connection of `userId` (log-out, password change). */
  disconnect(userId: string, code: number, reason: string): Promise<void>;
  isOnline(userId: string): Promise<boolean>;
  /** Authenticated connections held by this process. */
  readonly localConnections: number;
  /** Resolves when the bus can route right now; the readiness check (/healthz/ready). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
