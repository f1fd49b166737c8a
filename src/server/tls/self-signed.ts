// A self-signed certificate for first start, so `npm start` serves HTTPS with nothing to set
// up. Browsers need a secure context for Web Crypto and WebRTC; localhost would do over HTTP,
// but any other host name would not, and one code path for TLS is simpler to keep safe.
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';

export interface PemPair {
  cert: string;
  key: string;
}

// The library types name the DOM Crypto interface; Node's webcrypto is that object.
x509.cryptoProvider.set(webcrypto as never);

const VALIDITY_DAYS = 365;
/** Remake the certificate when less than this remains, so a long-running dev box never lapses. */
const RENEW_BEFORE_MS = 14 * 86_400_000;

export function selfSignedPaths(dataDir: string): { certFile: string; keyFile: string } {
  return { certFile: path.join(dataDir, 'tls', 'self-signed.crt'), keyFile: path.join(dataDir, 'tls', 'self-signed.key') };
}

export async function generateSelfSigned(hostnames: string[], now = new Date()): Promise<PemPair> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const names = [
    ...new Set(['localhost', ...hostnames]),
  ].map((value) => ({ type: 'dns' as const, value }));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '7'),
    name: 'CN=Parley (self-signed)',
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + VALIDITY_DAYS * 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...names, { type: 'ip', value: '127.0.0.1' }, { type: 'ip', value: '::1' }]),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n`;
  return { cert: cert.toString('pem') + '\n', key };
}

/** Reads the stored self-signed pair, making (or remaking) it when missing or near expiry. */
export async function ensureSelfSigned(dataDir: string, now = new Date()): Promise<{ certFile: string; keyFile: string; created: boolean }> {
  const paths = selfSignedPaths(dataDir);
  try {
    const existing = new X509Certificate(await readFile(paths.certFile));
    await readFile(paths.keyFile);
    if (new Date(existing.validTo).getTime() - now.getTime() > RENEW_BEFORE_MS) return { ...paths, created: false };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof Error && /certificate|PEM|asn1/i.test(e.message))) throw e;
  }
  await mkdir(path.dirname(paths.certFile), { recursive: true, mode: 0o700 });
  const pair = await generateSelfSigned([os.hostname()], now);
  await writeFile(paths.keyFile, pair.key, { mode: 0o600 });
  await writeFile(paths.certFile, pair.cert, { mode: 0o644 });
  return { ...paths, created: true };
}
