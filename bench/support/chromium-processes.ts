// What Chromium's processes use, from Linux's /proc: CPU seconds summed by kind of process
// (renderer, network service, browser, …), to show where a transfer's CPU goes beside its
// rate, and a renderer's resident memory. A process that exits before the second reading is
// not counted, so read before closing pages.
import { readdirSync, readFileSync } from 'node:fs';

export type CpuByProcess = Map<string, number>;

function kindOf(args: string[]): string {
  const type = args.find((a) => a.startsWith('--type='))?.slice('--type='.length) ?? 'browser';
  const sub = args.find((a) => a.startsWith('--utility-sub-type='))?.slice('--utility-sub-type='.length);
  return sub === 'network.mojom.NetworkService' ? 'network service' : type;
}

/** CPU seconds so far of each running Chromium process, keyed by pid and kind. */
export function chromiumCpu(): CpuByProcess {
  const out: CpuByProcess = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      // Chromium's child processes rewrite their title, joining the arguments with spaces.
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      if (!args[0]?.includes('chromium')) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(`${pid} ${kindOf(args)}`, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // Gone meanwhile.
    }
  }
  return out;
}

/** CPU seconds between two readings, by kind of process. */
export function cpuSpent(before: CpuByProcess, after: CpuByProcess): Map<string, number> {
  const byKind = new Map<string, number>();
  for (const [key, seconds] of after) {
    const kind = key.slice(key.indexOf(' ') + 1);
    byKind.set(kind, (byKind.get(kind) ?? 0) + seconds - (before.get(key) ?? 0));
  }
  return byKind;
}

export function describeCpu(spent: Map<string, number>): string {
  return [...spent]
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, s]) => `${kind} ${s.toFixed(1)} s`)
    .join(', ');
}

/** Resident memory (MiB) of the largest renderer process of the profile in `profileDir`. */
export function largestRendererRss(profileDir: string): number {
  let largest = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
      if (!args[0]?.includes('chromium') || kindOf(args) !== 'renderer' || !args.includes(`--user-data-dir=${profileDir}`)) continue;
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      largest = Math.max(largest, Number(rss?.[1] ?? 0) / 1024);
    } catch {
      // Gone meanwhile.
    }
  }
  return largest;
}
