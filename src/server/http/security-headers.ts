// Headers on every response (issue: hostile world). The CSP allows no inline script and no
// third-party origin: a stored XSS that cannot run inline and cannot call out is much less.
import type { FastifyInstance } from 'fastify';

/** A Host header made only of characters a host name, IPv6 literal and port can have. */
const HOST_CHARS = /^[A-Za-z0-9.:[\]-]{1,300}$/;

export function contentSecurityPolicy(host: string | undefined): string {
  // CSP Level 3 lets 'self' match wss: on the same host; the explicit origin is for older engines.
  const wss = host && HOST_CHARS.test(host) ? ` wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    `connect-src 'self'${wss}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('content-security-policy', contentSecurityPolicy(request.headers.host));
    reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    reply.header('cross-origin-resource-policy', 'same-origin');
    reply.header('x-frame-options', 'DENY');
    // OWASP's current advice: turn the legacy XSS auditor off (it could be abused to leak data);
    // the CSP is the protection.
    reply.header('x-xss-protection', '0');
    // Calls (issue #16) need the camera, the microphone and screen sharing, for this origin only.
    reply.header('permissions-policy', 'camera=(self), microphone=(self), display-capture=(self), geolocation=(), payment=(), usb=(), interest-cohort=()');
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
    return payload;
  });
}
