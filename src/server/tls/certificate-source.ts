// Keeps the TLS certificate current without a restart. It polls the files' modification times
// (certbot and ACME clients replace them, often through symlinks, which watchers miss) and,
// when they change, checks that the new pair loads before handing it over. A half-written or
// mismatched pair is reported and the old one stays in service.
import { readFile, stat } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface LoadedCertificate {
  cert: Buffer;
  key: Buffer;
}

export async function loadCertificate(files: CertificateFiles): Promise<LoadedCertificate> {
  const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  // Throws if the key does not match the certificate or either does not parse.
  createSecureContext({ cert, key });
  return { cert, key };
}

async function fingerprint(files: CertificateFiles): Promise<string> {
  const [c, k] = await Promise.all([stat(files.certFile), stat(files.keyFile)]);
  return `${c.mtimeMs}:${c.size}:${k.mtimeMs}:${k.size}`;
}

/** Starts watching from the files as they are now (the pair the caller just loaded). */
export async function watchCertificate(
  files: CertificateFiles,
  intervalMs: number,
  onChange: (loaded: LoadedCertificate) => void,
  onError: (error: Error) => void,
): Promise<{ stop(): void; check(): Promise<void> }> {
  let last = await fingerprint(files);
  let checking = false;
  const check = async () => {
    if (checking) return;
    checking = true;
    try {
      const now = await fingerprint(files);
      if (now === last) return;
      const loaded = await loadCertificate(files);
      last = now;
      onChange(loaded);
    } catch (e) {
      onError(e as Error);
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
}
