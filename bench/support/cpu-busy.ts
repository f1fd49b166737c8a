// How busy the machine's cores were over a stretch (Linux /proc/stat), to tell a transfer
// limited by CPU from one limited by its pipeline: `const stop = cpuBusy(); …; stop()` gives
// the average number of cores in use.
import { readFileSync } from 'node:fs';

function sample(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export function cpuBusy(): () => number {
  const start = sample();
  return () => {
    const end = sample();
    const cores = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length;
    return ((end.busy - start.busy) / Math.max(1, end.total - start.total)) * cores;
  };
}
