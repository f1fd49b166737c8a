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
  /**
   * Why nothing can be pinned here: 'refused' when the browser would not install the service
   * worker (a certificate it warned about, or a page not served over HTTPS), 'unsupported' when
   * it has no service workers at all.
   */
  unpinnable?: 'refused' | 'unsupported';
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
      this.set({ unpinnable: 'unsupported' });
      return;
    }
    sw.addEventListener('message', (event: MessageEvent<WorkerMessage>) => this.onMessage(event.data));
    sw.startMessages();
    // Registration failing leaves the page as it is; a SecurityError is the browser refusing
    // this origin (a certificate it warned about), which About explains. Other failures (a
    // network error) are tried again on the next load.
    void sw.register('/sw.js', { scope: '/' }).catch((e: unknown) => {
      if (e instanceof DOMException && e.name === 'SecurityError') this.set({ unpinnable: 'refused' });
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
        if (m.pinned) this.set({ codeHash: m.pinned, pinned: true });
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
