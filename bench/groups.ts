// Group fan-out cost on the sender (issue #18): `npm run bench:groups`. Builds bench/groups with
// Vite, runs it in Debian's Chromium and prints, for groups of 10, 50 and 100 members, the time
// from Send to every envelope handed to the transport, against the same number of one-to-one
// texts and against bare AES-GCM per member, all measured in the same page and run.
import { runBenchPage } from './support/page-runner.ts';

interface Row {
  group: number;
  oneToOne: number;
  floor: number;
}
const r = await runBenchPage<{ userAgent: string; rounds: number; results: Record<string, Row>; opened: boolean }>('bench/groups');
if (!r.opened) throw new Error('a member could not open what it was sent');
const ms = (n: number) => `${n.toFixed(1)} ms`;
console.log(`Chromium: ${r.userAgent.match(/Chrome\/[\d.]+/)?.[0]}; one 100-byte text, median of ${r.rounds} rounds; the members are simulated peers (the server takes every envelope at once)\n`);
console.log('| members (sender included) | group text | as many one-to-one texts | ratio (target ≤ 1.1×) | bare AES-GCM per member (floor) | group vs floor | under 100 ms (100 members) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const [size, row] of Object.entries(r.results)) {
  const ratio = row.group / row.oneToOne;
  const under = size === '100' ? (row.group < 100 ? 'met' : 'missed') : '';
  console.log(`| ${size} | ${ms(row.group)} | ${ms(row.oneToOne)} | ${ratio.toFixed(2)}× ${ratio <= 1.1 ? 'met' : 'missed'} | ${ms(row.floor)} | ${(row.group / row.floor).toFixed(0)}× | ${under} |`);
}
