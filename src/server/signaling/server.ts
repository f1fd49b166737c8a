// The signaling endpoint: upgrades HTTPS requests on /ws to WebSockets, after checking the
// Origin (a page on another site must not open a socket with the user's cookies: cross-site
// WebSocket hijacking). Frames above maxPayload close the socket with 1009 inside `ws`.
// A heartbeat finds sockets whose peer vanished without a FIN, so presence stays true.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SIGNALING_MAX_FRAME_BYTES } from '../../wire/index.ts';
import { handleConnection, type ConnectionDeps } from './connection.ts';

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
  const lastPong = new WeakMap<WebSocket, boolean>();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== SIGNALING_PATH) return refuse(socket, 404, 'Not Found');
    if (!originAllowed(req, options.allowedOrigins)) return refuse(socket, 403, 'Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => {
      lastPong.set(ws, true);
      ws.on('pong', () => lastPong.set(ws, true));
      handleConnection(ws, options);
    });
  });

  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!lastPong.get(ws)) {
        ws.terminate();
        continue;
      }
      lastPong.set(ws, false);
      ws.ping();
    }
  }, options.heartbeatMs);
  heartbeat.unref();

  return {
    get clients() {
      return wss.clients.size;
    },
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(heartbeat);
        for (const ws of wss.clients) ws.terminate();
        wss.close(() => resolve());
      }),
  };
}
