// TURN credentials in the TURN REST API scheme (draft-uberti-behave-turn-rest-00 §2.2), which
// coturn checks with `use-auth-secret`: username = "<expiry as unix seconds>:<user id>",
// password = base64(HMAC-SHA1(shared secret, username)). coturn recomputes the HMAC and refuses
// the username once its expiry has passed, so nothing is stored and nothing needs revoking.
// Knows nothing of HTTP or of which URLs the credential is for.
import { createHmac } from 'node:crypto';

export interface TurnCredential {
  username: string;
  credential: string;
  /** Milliseconds since the epoch: the expiry in the username, in the unit the client uses. */
  expiresAt: number;
}

export function turnCredential(secret: string, userId: string, nowMs: number, ttlSeconds: number): TurnCredential {
  if (!userId || /[\s:]/.test(userId)) throw new Error('a TURN user id must be non-empty, without spaces or colons');
  const expiry = Math.floor(nowMs / 1000) + ttlSeconds;
  const username = `${expiry}:${userId}`;
  // SHA-1 because that is what coturn's REST API mode computes (HMAC-SHA1 is not broken as a MAC).
  const credential = createHmac('sha1', secret).update(username, 'utf8').digest('base64');
  return { username, credential, expiresAt: expiry * 1000 };
}
