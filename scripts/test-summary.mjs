// Prints the one closing line CI reads: "Tests: N passed, N failed, N skipped", from vitest's
// JSON report. Skipped tests are listed by name so a skip is never mistaken for a pass.
// With --other-node FILE (the status scripts/test-other-node.sh writes; once per Node major), the
// unit suite's run on that Node counts too: its tests are added to the totals, each of its
// failures and skips named with "[Node 22]" or "[Node 24]"; a run that was skipped counts as one
// skip, with the reason; one that could not be prepared, or did not finish, as one failure.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const otherNodeFiles = [];
for (let at = args.indexOf('--other-node'); at >= 0; at = args.indexOf('--other-node')) otherNodeFiles.push(args.splice(at, 2)[1]);
const file = args[0] ?? 'test-results/vitest.json';

let passed = 0;
let failed = 0;
let skipped = 0;
const skippedNames = [];
const notes = [];

function count(report, label) {
  const c = { passed: 0, failed: 0, skipped: 0, failedNames: [] };
  for (const suite of report.testResults ?? []) {
    for (const t of suite.assertionResults ?? []) {
      if (t.status === 'passed') c.passed++;
      else if (t.status === 'failed') {
        c.failed++;
        c.failedNames.push(label + (t.fullName ?? t.title));
      } else {
        c.skipped++;
        skippedNames.push(label + (t.fullName ?? t.title));
      }
    }
    // A file that failed to load has no assertions but must count as a failure.
    if ((suite.assertionResults ?? []).length === 0 && suite.status === 'failed') {
      c.failed++;
      c.failedNames.push(`${label}${suite.name} (did not load: ${String(suite.message ?? '').split('\n')[0]})`);
    }
  }
  passed += c.passed;
  failed += c.failed;
  skipped += c.skipped;
  return c;
}

if (existsSync(file)) count(JSON.parse(readFileSync(file, 'utf8')), '');
else {
  failed++;
  notes.push('the test runner wrote no report');
}

for (const statusFile of otherNodeFiles) {
  const s = existsSync(statusFile) ? JSON.parse(readFileSync(statusFile, 'utf8')) : { status: 'failed', reason: `${statusFile} was not written` };
  const name = `Node ${s.major ?? /node(\d+)-status/.exec(statusFile)?.[1] ?? '?'}`;
  if (s.status === 'skipped') {
    skipped++;
    skippedNames.push(`[${name}] the unit suite on ${name}: ${s.reason}`);
    console.log(`${name} unit run SKIPPED (counted as 1 skipped, not passed): ${s.reason}`);
  } else if (s.status === 'ran' && s.report && existsSync(s.report)) {
    const c = count(JSON.parse(readFileSync(s.report, 'utf8')), `[${name}] `);
    if (s.vitestExitCode !== 0 && c.failed === 0) {
      failed++;
      c.failed++;
      c.failedNames.push(`[${name}] vitest exited with code ${s.vitestExitCode} (errors outside the tests: see its output)`);
    }
    console.log(`${name} (v${s.version}) unit run: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped; ${s.prepareSeconds} s to prepare, ${s.testSeconds} s of tests`);
    if (c.failedNames.length) console.log(`Failed on ${name}:\n  ${c.failedNames.join('\n  ')}`);
  } else {
    failed++;
    const why = s.status === 'ran' ? 'it wrote no report' : s.reason;
    console.log(`${name} unit run FAILED (counted as 1 failed): ${why}`);
  }
}

if (skippedNames.length) console.log(`Skipped (not counted as passed):\n  ${skippedNames.join('\n  ')}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped${notes.length ? ` (${notes.join('; ')})` : ''}`);
process.exit(failed > 0 ? 1 : 0);
