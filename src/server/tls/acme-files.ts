// What Parley keeps of ACME in DATA_DIR/acme/: the account key, the certificate chain with its
// private key, and which directory issued it. Each file is replaced atomically (written beside
// it, flushed, renamed over it), so a crash leaves either the old file or the new one. A pair
// that does not match after a crash between two renames is simply not used: a new one is
// ordered. Knows nothing of the ACME protocol or of when to renew.
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import type { AcmeSettings } from './acme-settings.ts';

export interface AcmePaths {
  dir: string;
  accountKey: string;
  cert: string;
  key: string;
  /** {"directoryUrl": …}: a certificate from another CA (staging, Pebble) is replaced. */
  meta: string;
}

export function acmePaths(dataDir: string): AcmePaths {
  const dir = path.join(dataDir, 'acme');
  return { dir, accountKey: path.join(dir, 'account.key'), cert: path.join(dir, 'fullchain.pem'), key: path.join(dir, 'privkey.pem'), meta: path.join(dir, 'issuer.json') };
}

export interface StoredCertificate {
  cert: Buffer;
  key: Buffer;
  notBefore: number;
  notAfter: number;
  serial: string;
}

/** Writes `data` to `file` so that readers see the old content or the new, never a part. */
export async function writeFileAtomic(file: string, data: string | Buffer, mode: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/** Describes a certificate chain's leaf (the first PEM block). */
export function describeCertificate(certPem: Buffer | string): { notBefore: number; notAfter: number; serial: string; leaf: X509Certificate } {
  const leaf = new X509Certificate(certPem);
  return { notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo), serial: leaf.serialNumber, leaf };
}

/**
 * The stored certificate, if there is one from this directory that covers every configured name
 * and whose key matches. Expired or not: the caller decides (an expired one still beats none
 * while a new one is ordered).
 */
export async function readStoredCertificate(dataDir: string, settings: AcmeSettings): Promise<StoredCertificate | undefined> {
  const paths = acmePaths(dataDir);
  let cert: Buffer, key: Buffer, meta: string;
  try {
    [cert, key, meta] = await Promise.all([readFile(paths.cert), readFile(paths.key), readFile(paths.meta, 'utf8')]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    if ((JSON.parse(meta) as { directoryUrl?: unknown }).directoryUrl !== settings.directoryUrl) return undefined;
    const info = describeCertificate(cert);
    if (!settings.domains.every((d) => info.leaf.checkHost(d) !== undefined)) return undefined;
    if (!info.leaf.checkPrivateKey(createPrivateKey(key))) return undefined;
    createSecureContext({ cert, key });
    return { cert, key, notBefore: info.notBefore, notAfter: info.notAfter, serial: info.serial };
  } catch {
    // Unparseable leftovers of an interrupted write: order a new certificate.
    return undefined;
  }
}

/** Stores a newly issued pair: key, then chain, then the issuer note (see the file comment). */
export async function storeCertificate(dataDir: string, settings: AcmeSettings, certPem: string, keyPem: string): Promise<StoredCertificate> {
  const paths = acmePaths(dataDir);
  const cert = Buffer.from(certPem);
  const key = Buffer.from(keyPem);
  const info = describeCertificate(cert);
  createSecureContext({ cert, key });
  await writeFileAtomic(paths.key, key, 0o600);
  await writeFileAtomic(paths.cert, cert, 0o644);
  await writeFileAtomic(paths.meta, `${JSON.stringify({ directoryUrl: settings.directoryUrl, domains: settings.domains })}\n`, 0o644);
  return { cert, key, notBefore: info.notBefore, notAfter: info.notAfter, serial: info.serial };
}

/** The ACME account key, made (ECDSA P-256) and stored on first use. */
export async function loadOrCreateAccountKey(dataDir: string, create: () => Promise<Buffer>): Promise<Buffer> {
  const file = acmePaths(dataDir).accountKey;
  try {
    return await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const key = await create();
  await writeFileAtomic(file, key, 0o600);
  return key;
}
