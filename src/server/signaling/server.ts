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
import { Deadlines } from './deadlines.ts';

export const SIGNALING_PATH = '/ws';

export interface SignalingOptions extends ConnectionDeps {
  /** Origins allowed besides the server's own (scheme://host[:port]). */
  allowedOrigins: string[];
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

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachSignaling(server: Server, options: SignalingOptions): { close(): Promise<void>; readonly clients: number } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: SIGNALING_MAX_FRAME_BYTES, perMessageDeflate: false });
  const heartbeat = startHeartbeat<WebSocket>({ intervalMs: options.heartbeatMs, sockets: () => wss.clients });
  const deadlines = new Deadlines();
  // Shared by every socket rather than made for each (a relay holds tens of thousands).
  function onPong(this: WebSocket) {
    heartbeat.alive(this);
  }
  function destroyOnError(this: Duplex) {
    this.destroy();
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError);
    const path = (req.url ?? '').split('?')[0];
    if (path !== SIGNALING_PATH) return refuse(socket, 404, 'Not Found');
    if (!originAllowed(req, options.allowedOrigins)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ws now handles the socket's errors itself; one listener fewer per socket.
      socket.off('error', destroyOnError);
      heartbeat.alive(ws);
      ws.on('pong', onPong);
      handleConnection(ws, options, deadlines);
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
