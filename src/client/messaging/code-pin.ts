// The page's side of code pinning (issue #20; the service worker, public/sw.js, does the
// work): which release this page runs (its code hash), whether a newer one is offered, and
// whether the server offered code that did not match its manifest. Without a service worker
// (first visit before it installs, a browser without one), the code hash is the one the server
// names now, which is what this page was just loaded from.
import { toHex } from '../../crypto/bytes.ts';

export interface CodeState {
  /** SHA-384 of the release manifest this page runs, hex; undefined until known. */
  codeHash?: string;
  /** Whether a service worker holds this code pinned. */
  pinned: boolean;
  /** A newer release, downloaded and checked, waiting for "Update". */
  offered?: string;
  /** A file the server served that did not match its manifest, refused. */
  refused?: string;
  /** Why nothing can be pinned here (undefined: nothing known against it). */
  unpinnable?: Unpinnable;
}

/**
 * 'certificate': the browser refused the service worker over a certificate it warned about;
 * 'blocked': it refused for another reason (a privacy setting, blocked cookies, private
 * browsing, a server answering sw.js with something else); 'insecure': the page is not served
 * over HTTPS; 'unsupported': the browser has no service workers.
 */
export type Unpinnable = 'certificate' | 'blocked' | 'insecure' | 'unsupported';

/** What a failed registration says about this origin; undefined for a passing failure (the network). */
export function unpinnableBy(e: unknown): Unpinnable | undefined {
  if (!(e instanceof DOMException)) return undefined; // a TypeError: the script could not be fetched now
  if (e.name === 'SecurityError' && /certificate|SSL/i.test(e.message)) return 'certificate';
  return e.name === 'SecurityError' || e.name === 'NotSupportedError' ? 'blocked' : undefined;
}

type WorkerMessage =
  | { type: 'status'; pinned: string | null; offered: string | null; refused: string | null }
  | { type: 'offered'; hash: string }
  | { type: 'refused'; file: string }
  | { type: 'updated'; hash: string };

/** The short, readable form of a code hash: its first 96 bits in groups of four hex digits. */
export function shortCodeHash(hex: string): string {
  return hex.slice(0, 24).match(/.{4}/g)!.join(' ');
}

async function manifestHash(): Promise<string | undefined> {
  try {
    const response = await fetch('/manifest.json', { cache: 'no-store' });
    if (!response.ok) return undefined;
    return toHex(new Uint8Array(await crypto.subtle.digest('SHA-384', await response.arrayBuffer())));
  } catch {
    return undefined;
  }
}

export class CodePin {
  private snapshot: CodeState = { pinned: false };
  private readonly listeners = new Set<() => void>();

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSnapshot = (): CodeState => this.snapshot;

  /** Registers the service worker and listens to it. */
  start(): void {
    const sw = 'serviceWorker' in navigator ? navigator.serviceWorker : undefined;
    void manifestHash().then((hash) => {
      if (hash && !this.snapshot.pinned) this.set({ codeHash: hash });
    });
    if (!sw) {
      // Service workers exist only on secure pages: on plain HTTP the browser is not to blame.
      this.set({ unpinnable: globalThis.isSecureContext === false ? 'insecure' : 'unsupported' });
      return;
    }
    sw.addEventListener('message', (event: MessageEvent<WorkerMessage>) => this.onMessage(event.data));
    sw.startMessages();
    // Registration failing leaves the page as it is; About says why when the browser refused
    // this origin. A network failure is tried again on the next load.
    void sw.register('/sw.js', { scope: '/' }).catch((e: unknown) => {
      const why = unpinnableBy(e);
      if (why) this.set({ unpinnable: why });
    });
    const ask = () => sw.controller?.postMessage({ type: 'check' });
    sw.addEventListener('controllerchange', () => sw.controller?.postMessage({ type: 'status' }));
    if (sw.controller) {
      sw.controller.postMessage({ type: 'status' });
      ask();
    }
  }

  /** "Update": the offered release becomes this browser's; every Parley page reloads into it. */
  update(): void {
    navigator.serviceWorker?.controller?.postMessage({ type: 'update' });
  }

  /** "Not now": asked again on the next load. */
  dismiss(): void {
    this.set({ offered: undefined });
  }

  private onMessage(m: WorkerMessage): void {
    switch (m.type) {
      case 'status':
        if (m.pinned) this.set({ codeHash: m.pinned, pinned: true, unpinnable: undefined });
        this.set({ offered: m.offered ?? undefined, refused: m.refused ?? undefined });
        return;
      case 'offered':
        return this.set({ offered: m.hash });
      case 'refused':
        return this.set({ refused: m.file });
      case 'updated':
        location.reload();
        return;
    }
  }

  private set(patch: Partial<CodeState>): void {
    this.snapshot = { ...this.snapshot, ...patch };
    for (const l of this.listeners) l();
  }
}
