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

export interface Attachment {
  detach(): void;
}

export interface Bus {
  /**
   * Makes `endpoint` the one connection of `userId`. One device per account (DESIGN.md), so an
   * older connection of the same user is closed with `replacedCode`.
   */
  attach(userId: string, endpoint: Endpoint, replacedCode: number): Attachment;
  /** Resolves true if a connection of `userId` was handed the frame. */
  deliver(userId: string, frameText: string): Promise<boolean>;
  /** Tells the connection of `userId`, wherever it is, that its offline queue has new envelopes. */
  notifyQueue(userId: string): Promise<void>;
  /** Closes every connection of `userId` (log-out, password change). */
  disconnect(userId: string, code: number, reason: string): Promise<void>;
  isOnline(userId: string): Promise<boolean>;
  readonly localConnections: number;
  close(): Promise<void>;
}
