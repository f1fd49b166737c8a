// Ratchet cost in the browser (issue #3): `npm run bench:ratchet`.
// Builds bench/ratchet with Vite, serves it on 127.0.0.1 (a secure context, so Web Crypto is
// available), runs it in Debian's Chromium and prints the figures with their ratios to bare
// AES-GCM measured in the same page and run.
import { runBenchPage } from './support/page-runner.ts';

const r = await runBenchPage<Record<string, number>>('bench/ratchet');
const f = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`Chromium: ${String(r.userAgent).match(/Chrome\/[\d.]+/)?.[0]}; ${r.messagesPerRound} messages of 100 bytes per round, median of ${r.rounds} rounds\n`);
const ratio = (x: number) => x / r.bareAesGcmPerSecond!;
const TARGET = 0.3;
const runs = ratio(r.ratchetRunsPerSecond!);
console.log('| measure | result | vs bare AES-GCM | target |');
console.log('| --- | --- | --- | --- |');
console.log(`| bare AES-256-GCM encrypt+decrypt | ${f(r.bareAesGcmPerSecond!)} msg/s | 1.00× | baseline |`);
console.log(`| AES-256-GCM with a key imported per message on each side (the floor for a ratchet on Web Crypto) | ${f(r.keyPerMessagePerSecond!)} msg/s | ${ratio(r.keyPerMessagePerSecond!).toFixed(2)}× | |`);
console.log(`| ratchet, one speaker, state written (cloned, as IndexedDB does) after every message | ${f(r.ratchetOneWayPerSecond!)} msg/s | ${ratio(r.ratchetOneWayPerSecond!).toFixed(2)}× | |`);
console.log(`| ratchet, one speaker, runs of ${r.runLength}: state written once per run on each side, before any plaintext is returned | ${f(r.ratchetRunsPerSecond!)} msg/s | ${runs.toFixed(2)}× | ≥ ${TARGET}×: ${runs >= TARGET ? 'met' : 'missed'} |`);
console.log(`| ratchet, speakers alternate (DH ratchet per message) | ${f(r.ratchetAlternatingPerSecond!)} msg/s | ${ratio(r.ratchetAlternatingPerSecond!).toFixed(2)}× | |`);
console.log(`| session start, initiator (bundle fetch excluded) | ${r.sessionStartInitiatorMs!.toFixed(2)} ms | | |`);
console.log(`| session start, responder (first message) | ${r.sessionStartResponderMs!.toFixed(2)} ms | | |`);
