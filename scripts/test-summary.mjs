// Prints the one closing line CI reads: "Tests: N passed, N failed, N skipped", from vitest's
// JSON report. Skipped tests are listed by name so a skip is never mistaken for a pass.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'test-results/vitest.json';
if (!existsSync(file)) {
  console.log('Tests: 0 passed, 1 failed (the test runner wrote no report)');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
const skippedNames = [];
for (const suite of report.testResults ?? []) {
  for (const t of suite.assertionResults ?? []) {
    if (t.status === 'passed') passed++;
    else if (t.status === 'failed') failed++;
    else {
      skipped++;
      skippedNames.push(t.fullName ?? t.title);
    }
  }
  // A file that failed to load has no assertions but must count as a failure.
  if ((suite.assertionResults ?? []).length === 0 && suite.status === 'failed') failed++;
}
if (skippedNames.length) console.log(`Skipped (not counted as passed):\n  ${skippedNames.join('\n  ')}`);
console.log(`Tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);
