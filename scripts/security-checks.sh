#!/usr/bin/env bash
# Static security checks (issue #6 pipeline): ESLint with typescript-eslint, eslint-plugin-security
# and eslint-plugin-no-unsanitized; Parley's own ast-grep rules (and their rule tests);
# secretlint over every tracked file; lockfile-lint on both lockfiles. The tools live in
# tools/lint with their own lockfile (typescript-eslint needs the TypeScript 5 API).
set -euo pipefail
cd "$(dirname "$0")/.."
LINT=tools/lint/node_modules/.bin

if [ ! -x "$LINT/eslint" ] || [ tools/lint/package-lock.json -nt tools/lint/node_modules/.package-lock.json ]; then
  echo "Installing the security tools (tools/lint)…"
  npm ci --prefix tools/lint --no-audit --no-fund --loglevel=error
fi

echo "· eslint (typescript-eslint, security, no-unsanitized)"
"$LINT/eslint" -c tools/lint/eslint.config.js --max-warnings 0 src scripts bench test e2e

echo "· ast-grep rules: self-test, then scan"
"$LINT/ast-grep" test -c tools/lint/ast-grep/sgconfig.yml --skip-snapshot-tests >/dev/null
"$LINT/ast-grep" scan -c tools/lint/ast-grep/sgconfig.yml --error

echo "· secretlint"
git ls-files -z | xargs -0 "$LINT/secretlint" --secretlintrc tools/lint/.secretlintrc.json

echo "· lockfile-lint"
for lock in package-lock.json tools/lint/package-lock.json; do
  "$LINT/lockfile-lint" --path "$lock" --type npm --allowed-hosts npm --validate-https --validate-integrity >/dev/null
done
echo "Static security checks passed."
