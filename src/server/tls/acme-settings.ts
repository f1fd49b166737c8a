// Certificates by ACME (issue #5): the settings, checked once at start. Given ACME_DOMAINS and
// ACME_EMAIL, Parley obtains and renews its own certificate (acme.ts) instead of reading
// TLS_CERT/TLS_KEY. Knows nothing of the ACME protocol or the files it keeps.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { ConfigError } from '../config-error.ts';

export interface AcmeSettings {
  /** Names the certificate covers, lower-case; the first is its subject. */
  domains: string[];
  /** Contact address given to the CA (expiry and policy mail). */
  email: string;
  directoryUrl: string;
  /** Extra CA certificates (PEM) trusted for the directory's HTTPS, besides the system's. */
  caPem: string | undefined;
}

export const LETS_ENCRYPT_DIRECTORY = 'https://acme-v02.api.letsencrypt.org/directory';
/** Let's Encrypt allows 100 names per certificate; more here is surely a mistake. */
const MAX_DOMAINS = 100;

type Env = Record<string, string | undefined>;

/** RFC 1123 host names of at least two labels; http-01 cannot prove a wildcard or an address. */
function checkDomain(name: string): void {
  if (name.startsWith('*.')) throw new ConfigError(`ACME_DOMAINS: "${name.slice(0, 80)}" is a wildcard; wildcards need the dns-01 challenge, and Parley answers http-01 only`);
  if (isIP(name.replace(/^\[|\]$/g, '')) !== 0) throw new ConfigError(`ACME_DOMAINS: "${name.slice(0, 80)}" is an address; a certificate by ACME needs a domain name`);
  const labels = name.split('.');
  const ok = name.length <= 253 && labels.length >= 2 && labels.every((l) => /^[a-z0-9-]{1,63}$/.test(l) && !l.startsWith('-') && !l.endsWith('-'));
  if (!ok) throw new ConfigError(`ACME_DOMAINS: "${name.slice(0, 80)}" is not a domain name like chat.example.org`);
}

export function loadAcmeSettings(env: Env, cwd: string, other: { tls: boolean; httpPort: number | undefined }): AcmeSettings | undefined {
  const given = ['ACME_DOMAINS', 'ACME_EMAIL', 'ACME_DIRECTORY_URL', 'ACME_CA_FILE'].filter((name) => env[name]);
  if (!env.ACME_DOMAINS) {
    if (given.length) throw new ConfigError(`${given.join(', ')} ${given.length === 1 ? 'has' : 'have'} no effect without ACME_DOMAINS`);
    return undefined;
  }
  const domains = [...new Set(env.ACME_DOMAINS.split(',').map((d) => d.trim().toLowerCase().replace(/\.$/, '')).filter(Boolean))];
  if (domains.length === 0) throw new ConfigError('ACME_DOMAINS must list at least one domain name');
  if (domains.length > MAX_DOMAINS) throw new ConfigError(`ACME_DOMAINS lists ${domains.length} names; at most ${MAX_DOMAINS}`);
  domains.forEach(checkDomain);
  if (other.tls) throw new ConfigError('set either ACME_DOMAINS (Parley obtains its certificate) or TLS_CERT/TLS_KEY (you provide it), not both');
  if (other.httpPort === undefined) {
    throw new ConfigError('ACME_DOMAINS needs HTTP_REDIRECT_PORT: the CA checks http://<domain>/.well-known/acme-challenge/ on port 80, so set HTTP_REDIRECT_PORT=80 (or the port that port 80 is forwarded to)');
  }

  const email = env.ACME_EMAIL?.trim();
  if (!email) throw new ConfigError('ACME_DOMAINS needs ACME_EMAIL, the contact address the CA writes to about this certificate');
  if (!/^[^\s@,<>()"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/.test(email)) throw new ConfigError(`ACME_EMAIL must be one address like admin@example.org, got "${email.slice(0, 80)}"`);

  const directoryUrl = env.ACME_DIRECTORY_URL || LETS_ENCRYPT_DIRECTORY;
  let url: URL;
  try {
    url = new URL(directoryUrl);
  } catch {
    throw new ConfigError('ACME_DIRECTORY_URL is not a valid URL');
  }
  if (url.protocol !== 'https:') throw new ConfigError('ACME_DIRECTORY_URL must start with https:// (RFC 8555 requires HTTPS)');

  let caPem: string | undefined;
  if (env.ACME_CA_FILE) {
    try {
      caPem = readFileSync(path.resolve(cwd, env.ACME_CA_FILE), 'utf8');
    } catch (e) {
      throw new ConfigError(`ACME_CA_FILE cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      new X509Certificate(caPem);
    } catch {
      throw new ConfigError('ACME_CA_FILE must hold PEM certificates (-----BEGIN CERTIFICATE-----)');
    }
  }
  return { domains, email, directoryUrl, caPem };
}
