// Reads testssl.sh's and wapiti's JSON reports and fails on any finding of medium severity or
// worse. Certificate-trust findings are expected for the self-signed test certificate and are
// shown but not counted.
import { readFileSync } from 'node:fs';

const [testsslFile, wapitiFile] = process.argv.slice(2);
const EXPECTED_FOR_SELF_SIGNED = new Set(['cert_chain_of_trust', 'cert_trust', 'cert_revocation', 'cert_ocspURL', 'OCSP_stapling', 'cert_crlDistributionPoints', 'DNS_CAArecord', 'cert_caIssuers']);
const SEVERE = new Set(['MEDIUM', 'HIGH', 'CRITICAL']);
let failures = 0;

const testssl = JSON.parse(readFileSync(testsslFile, 'utf8'));
if (!Array.isArray(testssl) || testssl.length < 20) {
  console.error('testssl.sh produced no usable report');
  process.exit(1);
}
for (const f of testssl) {
  if (!SEVERE.has(f.severity)) continue;
  const expected = EXPECTED_FOR_SELF_SIGNED.has(f.id);
  console.log(`  testssl ${f.severity} ${f.id}: ${f.finding}${expected ? '  (expected: self-signed test certificate)' : ''}`);
  if (!expected) failures++;
}

const wapiti = JSON.parse(readFileSync(wapitiFile, 'utf8'));
// Wapiti levels: 1 low, 2 medium, 3 high, 4 critical.
for (const section of ['vulnerabilities', 'anomalies']) {
  for (const [category, list] of Object.entries(wapiti[section] ?? {})) {
    for (const f of list) {
      const severe = (f.level ?? 0) >= 2;
      console.log(`  wapiti ${section} level ${f.level} ${category} ${f.path}: ${f.info}`);
      if (severe) failures++;
    }
  }
}
if (failures > 0) {
  console.error(`Security scan: ${failures} finding(s) of medium severity or worse.`);
  process.exit(1);
}
console.log('Security scan passed: no finding of medium severity or worse.');
