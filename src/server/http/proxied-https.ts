// With TLS_OFFLOAD the proxy in front terminates TLS and Parley listens on plain HTTP. Nothing of
// Parley may then be served to a request that did not come over HTTPS: a browser reaching the
// port directly, or the proxy forwarding a plain-HTTP request, would otherwise send tokens and
// cookies in the clear. The only witness is the proxy's X-Forwarded-Proto, believed only from a
// TRUST_PROXY address (from anyone else it is a claim anyone can make). One predicate serves
// both the HTTP routes and the WebSocket upgrade, so the two can never disagree.
import type { IncomingMessage } from 'node:http';
import proxyAddr from '@fastify/proxy-addr';

/** Answered to GET and HEAD over plain HTTP all the same: they carry no credentials and balancers poll them. */
export const PLAIN_HTTP_PATHS: ReadonlySet<string> = new Set(['/healthz', '/healthz/ready', '/metrics']);

export const PLAIN_HTTP_REFUSAL = 'Parley is served over HTTPS only: connect through its TLS proxy.';

export function arrivedOverHttps(trustProxy: readonly string[]): (req: IncomingMessage) => boolean {
  const trusted = proxyAddr.compile([...trustProxy]);
  return (req) => {
    const address = req.socket.remoteAddress;
    const proto = req.headers['x-forwarded-proto'];
    if (address === undefined || typeof proto !== 'string' || !trusted(address, 0)) return false;
    // The nearest proxy appends last: its entry is the one that saw the connection, as
    // fastify's request.protocol reads it.
    return proto.slice(proto.lastIndexOf(',') + 1).trim().toLowerCase() === 'https';
  };
}
