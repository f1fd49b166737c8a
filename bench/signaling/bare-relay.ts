// The ceiling: a bare `ws` relay with nothing Parley adds. No authentication (a client names
// itself in the URL), no validation (any JSON with a `to` is forwarded), no rate limit, no
// store, no bus. It does the least any relay must: parse the frame to find the recipient and
// re-serialise it with the sender's name, as Parley and PeerJS both do.
import { createServer as createHttp } from 'node:http';
import { createServer as createHttps, type ServerOptions } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** Without `tls`, plain HTTP: as behind a proxy that terminates TLS. */
export async function startBareRelay(tls: ServerOptions | undefined): Promise<{ port: number }> {
  const server = tls ? createHttps(tls) : createHttp();
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  const byId = new Map<string, WebSocket>();
  wss.on('connection', (ws, req) => {
    const id = new URL(req.url ?? '/', 'https://relay').searchParams.get('id');
    if (!id) return ws.close(1008, 'id missing');
    byId.set(id, ws);
    ws.on('message', (data) => {
      let frame: { to?: unknown; data?: unknown };
      try {
        frame = JSON.parse(data.toString());
      } catch {
        return;
      }
      const target = typeof frame?.to === 'string' ? byId.get(frame.to) : undefined;
      target?.send(JSON.stringify({ from: id, data: frame.data }));
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      if (byId.get(id) === ws) byId.delete(id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port };
}
