// The refresh-token cookie. The __Host- prefix makes the browser insist on Secure, Path=/ and
// no Domain, so no subdomain can set or read it; HttpOnly keeps it from page scripts, and
// SameSite=Strict keeps it off cross-site requests.
import type { FastifyReply, FastifyRequest } from 'fastify';

export const REFRESH_COOKIE = '__Host-parley_refresh';

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setRefreshCookie(reply: FastifyReply, token: string, expiresAt: number, now = Date.now()): void {
  const maxAge = Math.max(0, Math.floor((expiresAt - now) / 1000));
  reply.header('set-cookie', `${REFRESH_COOKIE}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`);
}

export function clearRefreshCookie(reply: FastifyReply): void {
  reply.header('set-cookie', `${REFRESH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`);
}
