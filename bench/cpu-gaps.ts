// What busy cores cost a thread that never sleeps, with no Parley in it: `npm run bench:cpu-gaps`.
// A probe reads the clock in a tight loop for five seconds on core 0 and counts the gaps between
// two readings longer than 1 ms (time the thread did not run). Three conditions, taking turns for
// three rounds (the host's own load moves within a minute), each figure the median of the three:
//  1. the probe alone (the baseline);
//  2. beside a busy loop at the lowest priority (SCHED_IDLE, as Parley's hashing threads run) on
//     another core: nothing in this machine's scheduler competes with the probe for its core;
//  3. beside a busy loop at the lowest priority on its own core: the scheduler's own share for it.
// The login storm in bench:signaling saturates the cores the same way; this says how much of its
// cost any program would pay here. Needs Linux with taskset and chrt (util-linux) and two cores.
import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';
import { startBusyCores } from './signaling/busy-cores.ts';

const SECONDS = 5;
const PROBE = `
const end = performance.now() + ${SECONDS * 1000};
let last = performance.now(), gaps = 0, over2 = 0, lost = 0, max = 0;
for (;;) {
  const t = performance.now();
  const g = t - last;
  last = t;
  if (g > 1) { gaps++; lost += g; if (g > 2) over2++; if (g > max) max = g; }
  if (t > end) break;
}
process.stdout.write(JSON.stringify({ gaps, over2, lost, max }));
`;

interface Gaps {
  gaps: number;
  over2: number;
  lost: number;
  max: number;
}

function probe(): Promise<Gaps> {
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', ['-c', '0', process.execPath, '-e', PROBE], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Gaps) : reject(new Error(`probe exited with ${code}`))));
  });
}

async function beside(core: number | undefined): Promise<Gaps> {
  if (core === undefined) return probe();
  const busy = startBusyCores(1, core);
  await new Promise((r) => setTimeout(r, 300));
  try {
    return await probe();
  } finally {
    await busy.stop();
    await new Promise((r) => setTimeout(r, 300));
  }
}

if (os.availableParallelism() < 2 || spawnSync('chrt', ['--help']).error || spawnSync('taskset', ['--help']).error) {
  process.stderr.write('bench:cpu-gaps needs two cores, taskset and chrt (util-linux).\n');
  process.exit(1);
}
const CONDITIONS: [string, number | undefined][] = [
  ['probe alone on core 0', undefined],
  ['beside a SCHED_IDLE busy loop on core 1', 1],
  ['beside a SCHED_IDLE busy loop on core 0 (its own)', 0],
];
const ROUNDS = 3;
const runs: Gaps[][] = CONDITIONS.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  for (const [i, [label, core]] of CONDITIONS.entries()) {
    const g = await beside(core);
    runs[i]!.push(g);
    process.stderr.write(`round ${r + 1}, ${label}: ${g.gaps} gaps > 1 ms, longest ${g.max.toFixed(2)} ms, ${g.lost.toFixed(1)} ms not run\n`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: [string, Gaps][] = CONDITIONS.map(([label], i) => [
  label,
  { gaps: median(runs[i]!.map((g) => g.gaps)), over2: median(runs[i]!.map((g) => g.over2)), max: median(runs[i]!.map((g) => g.max)), lost: median(runs[i]!.map((g) => g.lost)) },
]);
process.stdout.write(`\nA clock-reading loop on core 0 for ${SECONDS} s, medians of ${ROUNDS} rounds, ${os.availableParallelism()} cores, Node ${process.version}\n\n`);
process.stdout.write('| condition | gaps > 1 ms | gaps > 2 ms | longest | time not run |\n| --- | --- | --- | --- | --- |\n');
for (const [label, g] of rows) {
  process.stdout.write(`| ${label} | ${g.gaps} | ${g.over2} | ${g.max.toFixed(2)} ms | ${g.lost.toFixed(1)} ms (${((100 * g.lost) / (SECONDS * 1000)).toFixed(2)} %) |\n`);
}
