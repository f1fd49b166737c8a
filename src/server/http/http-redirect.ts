// An optional plain-HTTP listener whose only answer is a redirect to HTTPS (and a 400 for
// anything it cannot redirect safely). Nothing of Parley is ever served over plain HTTP; HSTS
// then keeps browsers on HTTPS for a year. The one exception is the ACME http-01 challenge
// (RFC 8555 §8.3), which the CA fetches over plain HTTP while an order runs: a token it was
// given, answered with that token's key authorization, from the map acme.ts keeps.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const HOST_PATTERN = /^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:.]+\]$/;
/** RFC 8555 §8.3: the token is base64url; the path is exactly this. */
const CHALLENGE_PATH = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]{1,256})$/;

export async function startHttpRedirect(
  host: string,
  port: number,
  httpsAddress: AddressInfo | string | null,
  challenges?: ReadonlyMap<string, string>,
): Promise<{ server: Server; close(): Promise<void> }> {
  const httpsPort = typeof httpsAddress === 'object' && httpsAddress ? httpsAddress.port : 443;
  const server = createServer((req, res) => {
    const token = req.method === 'GET' || req.method === 'HEAD' ? CHALLENGE_PATH.exec(req.url ?? '')?.[1] : undefined;
    if (challenges && token !== undefined) {
      const answer = challenges.get(token);
      res.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'text/plain', connection: 'close' }).end(answer ?? 'No such challenge.\n');
      return;
    }
    const hostname = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (!HOST_PATTERN.test(hostname) || !req.url?.startsWith('/')) {
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('Use HTTPS.\n');
      return;
    }
    const location = `https://${hostname}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url}`;
    res.writeHead(301, { location, 'content-type': 'text/plain', connection: 'close' }).end(`Moved to ${location}\n`);
  });
  server.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n'));
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return { server, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
