// The server's WebSocket class (ws lets a server choose it: its `WebSocket` option). Each socket
// hands its events straight to the one object that handles them, instead of through a table of
// listeners per socket: a relay holds tens of thousands of idle sockets, and the listener table
// for message, error, close and pong (an object in dictionary mode) cost about 0.3 KB on each
// (bench:signaling heap snapshots, issue #5). ws's own listener (the server forgetting a closed
// client) still hears `close`.
import { WebSocket, type RawData } from 'ws';
import { markHeard, markSpoke } from './heartbeat.ts';

export interface SocketHandler {
  onMessage(data: RawData, isBinary: boolean): void;
  onError(error: Error): void;
  onClose(): void;
}

export type RelaySocket = WebSocket & {
  /** Who handles this socket's events; until set, messages are dropped and errors ignored. */
  handler: SocketHandler | undefined;
};

/** A WebSocket class for one server; `onPong` is told of every pong (the heartbeat). */
export function relaySocketClass(onPong: (socket: RelaySocket) => void): typeof WebSocket {
  class ServerSocket extends WebSocket {
    handler: SocketHandler | undefined = undefined;

    // Named parameters rather than a rest array: this runs for every frame, and ws passes at
    // most two arguments with the events handled here. Others go on to EventEmitter whole.
    override emit(event: string | symbol, first?: unknown, second?: unknown): boolean {
      switch (event) {
        case 'message':
          markHeard(this);
          this.handler?.onMessage(first as RawData, second as boolean);
          return true;
        case 'pong':
          onPong(this);
          return true;
        case 'error':
          // Oversized frames (1009) and protocol errors arrive here; ws closes the socket
          // itself. Handled here, so an error can never be thrown for want of a listener.
          this.handler?.onError(first as Error);
          return true;
        case 'close':
          this.handler?.onClose();
          break;
      }
      // eslint-disable-next-line prefer-rest-params
      return super.emit.apply(this, arguments as unknown as [string | symbol, ...unknown[]]);
    }

    // Every frame sent to the peer tells the heartbeat the path is in use (heartbeat.ts).
    override send(data: unknown, options?: unknown, cb?: unknown): void {
      markSpoke(this);
      super.send(data as never, options as never, cb as never);
    }
  }
  return ServerSocket;
}
