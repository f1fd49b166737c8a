// Prints the one closing line CI reads: "Tests: N passed, N failed, N skipped", from vitest's
// JSON report. Skipped tests are listed by name so a skip is never mistaken for a pass.
// With --node24 FILE (the status scripts/test-node24.sh writes), the unit suite's run on Node 24
// counts too: its tests are added to the totals, each of its failures and skips named with
// "[Node 24]"; a Node 24 run that was skipped counts as one skip, with the reason; one that could
// not be prepared, or did not finish, as one failure.
import { existsSync, readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const at = args.indexOf('--node24');
const node24File = at >= 0 ? args.splice(at, 2)[1] : undefined;
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

if (node24File !== undefined) {
  const s = existsSync(node24File) ? JSON.parse(readFileSync(node24File, 'utf8')) : { status: 'failed', reason: 'the Node 24 step wrote no status' };
  if (s.status === 'skipped') {
    skipped++;
    skippedNames.push(`[Node 24] the unit suite on Node 24: ${s.reason}`);
    console.log(`Node 24 unit run SKIPPED (counted as 1 skipped, not passed): ${s.reason}`);
  } else if (s.status === 'ran' && s.report && existsSync(s.report)) {
    const c = count(JSON.parse(readFileSync(s.report, 'utf8')), '[Node 24] ');
    if (s.vitestExitCode !== 0 && c.failed === 0) {
      failed++;
      c.failed++;
      c.failedNames.push(`[Node 24] vitest exited with code ${s.vitestExitCode} (errors outside the tests: see its output)`);
    }
    console.log(`Node 24 (v${s.version}) unit run: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped; ${s.prepareSeconds} s to prepare, ${s.testSeconds} s of tests`);
    if (c.failedNames.length) console.log(`Failed on Node 24:\n  ${c.failedNames.join('\n  ')}`);
  } else {
    failed++;
    const why = s.status === 'ran' ? 'it wrote no report' : s.reason;
    console.log(`Node 24 unit run FAILED (counted as 1 failed): ${why}`);
  }
}

if (skippedNames.length) console.log(`Skipped (not counted as passed):\n  ${skippedNames.join('\n  ')}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped${notes.length ? ` (${notes.join('; ')})` : ''}`);
process.exit(failed > 0 ? 1 : 0);
