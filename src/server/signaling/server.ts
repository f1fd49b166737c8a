// The signaling endpoint: upgrades HTTPS requests on /ws to WebSockets, after checking the
// Origin (a page on another site must not open a socket with the user's cookies: cross-site
// WebSocket hijacking). Frames above maxPayload close the socket with 1009 inside `ws`.
// A heartbeat (heartbeat.ts) finds sockets whose peer vanished without a FIN, so presence stays true.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SIGNALING_MAX_FRAME_BYTES } from '../../wire/index.ts';
import { handleConnection, type ConnectionDeps } from './connection.ts';
import { startHeartbeat } from './heartbeat.ts';
import { relaySocketClass, type RelaySocket } from './relay-socket.ts';
import { Deadlines } from './deadlines.ts';

export const SIGNALING_PATH = '/ws';

export interface SignalingOptions extends ConnectionDeps {
  /** Origins allowed besides the server's own (scheme://host[:port]). */
  allowedOrigins: string[];
  /** Behind a TLS-terminating proxy: whether the proxy says this request came over HTTPS. */
  viaHttps?: (req: IncomingMessage) => boolean;
  heartbeatMs: number;
}

function originAllowed(req: IncomingMessage, extra: string[]): boolean {
  const origin = req.headers.origin;
  // Non-browser clients send no Origin; browsers always do, and only they carry ambient
  // credentials that hijacking could abuse.
  if (origin === undefined) return true;
  if (extra.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function destroyOnError(this: Duplex) {
  this.destroy();
}

function refuse(socket: Duplex, status: number, text: string): void {
  // Nothing else listens for this socket's errors any more: without a listener, a reset during
  // the refusal would be thrown and take the process down.
  socket.on('error', destroyOnError);
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachSignaling(server: Server, options: SignalingOptions): { close(): Promise<void>; readonly clients: number } {
  const heartbeat = startHeartbeat<WebSocket>({ intervalMs: options.heartbeatMs, sockets: () => wss.clients });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: SIGNALING_MAX_FRAME_BYTES,
    perMessageDeflate: false,
    WebSocket: relaySocketClass((socket) => heartbeat.alive(socket)),
  });
  const deadlines = new Deadlines();
  const context = { ...options, deadlines };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Only refusals add an error listener: ws's handleUpgrade adds its own at once, and one more
    // added and removed here grew the socket's listener array for good (0.14 KB a connection,
    // bench:signaling heap snapshots, issue #5).
    const path = (req.url ?? '').split('?')[0];
    if (path !== SIGNALING_PATH) return refuse(socket, 404, 'Not Found');
    if (options.viaHttps && !options.viaHttps(req)) return refuse(socket, 403, 'Forbidden');
    if (!originAllowed(req, options.allowedOrigins)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      heartbeat.alive(ws);
      handleConnection(ws as RelaySocket, context);
    });
  });

  return {
    get clients() {
      return wss.clients.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        heartbeat.stop();
        deadlines.stop();
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
