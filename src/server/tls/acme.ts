// Obtains and renews Parley's certificate from an ACME CA (RFC 8555) with acme-client, and hands
// each new one to the HTTPS server without a restart. One job: decide when, order, store
// (acme-files.ts), tell. It answers the http-01 challenge through a token map that the plain-HTTP
// listener (http-redirect.ts) serves; it knows nothing of HTTP itself.
//
// When: a certificate is renewed once less than a third of its validity is left (Let's Encrypt's
// advice: day 60 of 90, day 4 of 6, second 20 of Pebble's 30), checked at that moment and at
// least once a day. A failed order is logged and retried with doubling delays; the certificate in
// service stays until a new one is stored.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { AcmeSettings } from './acme-settings.ts';
import { loadOrCreateAccountKey, storeCertificate, type StoredCertificate } from './acme-files.ts';

export interface AcmeLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** token → key authorization, served at /.well-known/acme-challenge/<token> while an order runs. */
export type ChallengeResponses = Map<string, string>;

/** Orders one certificate for `domains`; acme-client in production, a double in tests. */
export type Issue = (domains: string[]) => Promise<{ cert: string; key: string }>;

export interface AcmeRenewalOptions {
  settings: AcmeSettings;
  dataDir: string;
  log: AcmeLog;
  challenges: ChallengeResponses;
  /** The certificate already in service, if it came from this CA (readStoredCertificate). */
  current: StoredCertificate | undefined;
  onCertificate(certificate: StoredCertificate): void;
  issue?: Issue;
  now?: () => number;
  /** First retry after a failed order; doubles up to retryMaxMs. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export interface AcmeRenewal {
  /** Renews now if due (also what the timer does); resolves when that attempt is over. */
  check(): Promise<void>;
  stop(): void;
}

const DAY_MS = 86_400_000;
/** Five minutes, then 10, 20, 40…: under Let's Encrypt's 5 failed validations per hour. */
export const RETRY_MIN_MS = 5 * 60_000;
export const RETRY_MAX_MS = 6 * 3_600_000;
/** acme-client's requests have no timeout of their own; a CA that hangs must fail the order. */
const REQUEST_TIMEOUT_MS = 30_000;

/** When a certificate is due for renewal: when a third of its validity is left. */
export function renewalTime(certificate: { notBefore: number; notAfter: number }): number {
  return certificate.notAfter - (certificate.notAfter - certificate.notBefore) / 3;
}

export function retryDelay(failures: number, minMs = RETRY_MIN_MS, maxMs = RETRY_MAX_MS): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/** The production Issue: acme-client against the configured directory, answering http-01. */
export function acmeClientIssuer(settings: AcmeSettings, dataDir: string, challenges: ChallengeResponses): Issue {
  // acme-client talks through one shared axios instance; this process has one ACME directory.
  acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
  if (settings.caPem) {
    acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, settings.caPem] });
  }
  return async (domains) => {
    const accountKey = await loadOrCreateAccountKey(dataDir, () => acme.crypto.createPrivateEcdsaKey('P-256'));
    // Polls start at 1 s rather than acme-client's 5 s: an http-01 order takes seconds.
    const client = new acme.Client({ directoryUrl: settings.directoryUrl, accountKey, backoffMin: 1000, backoffMax: 10_000, backoffAttempts: 10 });
    // A fresh certificate key for every order, so a renewal also rotates the key.
    const [key, csr] = await acme.crypto.createCsr({ commonName: domains[0], altNames: domains }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const cert = await client.auto({
      csr,
      email: settings.email,
      // Setting ACME_DOMAINS is the operator's agreement to the CA's terms (README says so).
      termsOfServiceAgreed: true,
      challengePriority: ['http-01'],
      // acme-client's own pre-check fetches http://<domain>:80 from here, which hairpin NAT or a
      // forwarded port can break although the CA gets through; the CA's check is the one that counts.
      skipChallengeVerification: true,
      challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
        challenges.set(challenge.token, keyAuthorization);
      },
      challengeRemoveFn: async (_authz, challenge) => {
        challenges.delete(challenge.token);
      },
    });
    return { cert, key: key.toString('utf8') };
  };
}

/** Starts the renewal loop: checks at once (ordering a first certificate if there is none). */
export function startAcmeRenewal(options: AcmeRenewalOptions): AcmeRenewal {
  const { settings, dataDir, log } = options;
  const now = options.now ?? Date.now;
  const issue = options.issue ?? acmeClientIssuer(settings, dataDir, options.challenges);
  let current = options.current;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = (delayMs: number) => {
    clearTimeout(timer);
    if (stopped) return;
    timer = setTimeout(() => void check(), Math.max(0, Math.min(delayMs, DAY_MS)));
    timer.unref();
  };

  const attempt = async () => {
    if (current && now() < renewalTime(current)) return schedule(renewalTime(current) - now());
    const started = now();
    try {
      const issued = await issue(settings.domains);
      const stored = await storeCertificate(dataDir, settings, issued.cert, issued.key);
      if (stopped) return;
      const renewed = current !== undefined;
      current = stored;
      failures = 0;
      options.onCertificate(stored);
      log.info(
        { domains: settings.domains, serial: stored.serial, notAfter: new Date(stored.notAfter).toISOString(), renewAt: new Date(renewalTime(stored)).toISOString(), ms: now() - started },
        renewed ? 'ACME certificate renewed' : 'ACME certificate obtained',
      );
      schedule(renewalTime(stored) - now());
    } catch (e) {
      if (stopped) return;
      failures++;
      const retryInMs = retryDelay(failures, options.retryMinMs, options.retryMaxMs);
      // The CA's problem document (type, detail) is in the message; nothing secret is.
      log.warn(
        { domains: settings.domains, failures, retryInMs, error: e instanceof Error ? e.message : String(e), inService: current ? new Date(current.notAfter).toISOString() : 'self-signed' },
        'ACME order failed; keeping the certificate in service and retrying',
      );
      schedule(retryInMs);
    }
  };

  const check = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= attempt().finally(() => {
      running = undefined;
    });
    return running;
  };

  void check();
  return {
    check,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
