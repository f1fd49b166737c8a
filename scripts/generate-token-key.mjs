// Prints a new token signing key: a private P-256 JSON Web Key, from the operating system's
// random source. Give the same key to every process of a deployment (TOKEN_SIGNING_KEY or
// TOKEN_SIGNING_KEY_FILE) so each accepts the access tokens the others issue:
//   npm run --silent token-key > /etc/parley/token-key.json && chmod 600 /etc/parley/token-key.json
// The random kid names the key in every token it signs, so that during a rotation
// (TOKEN_SIGNING_KEYS, docs/deploy.md) each token is checked with its own key.
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
process.stdout.write(`${JSON.stringify({ ...jwk, alg: 'ES256', kid: randomBytes(8).toString('hex') })}\n`);
