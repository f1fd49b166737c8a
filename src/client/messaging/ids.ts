// Random ids for messages, outbox entries and calls: 128 bits, base64url, 22 characters.
import { encodeBase64url } from '../../wire/index.ts';
import { webRandom } from '../../crypto/random.ts';

export function newId(): string {
  return encodeBase64url(webRandom(16));
}
