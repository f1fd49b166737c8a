#!/usr/bin/env bash
# `npm test`: type check, import boundaries, then every suite (unit, integration on real SQLite
# and sockets, end-to-end in Chromium) on the machine's Node, then the unit suite on Node 22 and
# on Node 24 (scripts/test-other-node.sh), ending with one summary line.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Chromium is missing; installing Debian's chromium package for the browser tests…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; } || {
      echo "Could not install Chromium. Run: apt-get update && apt-get install -y chromium" >&2
      exit 1
    }
  else
    echo "The browser tests need Chromium at $CHROMIUM. Install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

# The NAT traversal tests (e2e/nat-traversal.test.ts) run as root, in network namespaces, with
# coturn and iptables; as root, install what is missing. Elsewhere they skip and say why.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  missing=()
  command -v turnserver >/dev/null || missing+=(coturn)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ip >/dev/null || missing+=(iproute2)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "Installing ${missing[*]} for the NAT traversal tests…"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${missing[@]}" >/dev/null; } || {
      echo "Could not install ${missing[*]}. Run: apt-get update && apt-get install -y ${missing[*]}" >&2
      exit 1
    }
  fi
fi

# The ACME tests (test/server/acme-pebble.test.ts) run against Pebble, Let's Encrypt's test CA;
# as root, install it when missing. Elsewhere they skip and say why.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! { [ -x /usr/bin/pebble ] && [ -x /usr/bin/pebble-challtestsrv ]; }; then
  echo "Installing pebble for the ACME tests…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q pebble >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q pebble >/dev/null; } || {
    echo "Could not install pebble. Run: apt-get update && apt-get install -y pebble" >&2
    exit 1
  }
fi

# The behind-proxy test (e2e/behind-proxy.test.ts) runs Parley behind a real nginx; as root,
# install it when missing, without letting Debian start its own nginx service on port 80.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  echo "Installing nginx for the behind-proxy test…"
  export DEBIAN_FRONTEND=noninteractive
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get install -y -q nginx >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nginx >/dev/null; } || {
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    echo "Could not install nginx. Run: apt-get update && apt-get install -y nginx" >&2
    exit 1
  }
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# Whatever the checks and tests write to the temporary folder (servers' data folders, browser
# profiles, certificates, scan reports) goes to one folder of this run, removed at the end, so
# no run leaves folders behind in /tmp, whichever test forgot its own.
TEST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/parley-tests-XXXXXX")"
chmod 1777 "$TEST_TMP" # as /tmp: as root, nginx's workers (e2e/support/nginx.ts) run as another user
export TMPDIR="$TEST_TMP"
trap 'rm -rf "$TEST_TMP"' EXIT

npx tsc -p tsconfig.json --noEmit || { echo "0 passed, 1 failed (type check)"; exit 1; }
node scripts/check-boundaries.mjs || { echo "0 passed, 1 failed (import boundaries)"; exit 1; }
# The security pipeline (issue #6): static checks, then testssl.sh and wapiti against the built
# server. PARLEY_SKIP_SECURITY_SCAN=1 skips only the slow dynamic scan, and says so.
bash scripts/security-checks.sh || { echo "0 passed, 1 failed (static security checks)"; exit 1; }
if [ "${PARLEY_SKIP_SECURITY_SCAN:-}" = 1 ]; then
  echo "Security scan (testssl.sh, wapiti) skipped: PARLEY_SKIP_SECURITY_SCAN=1"
else
  bash scripts/security-scan.sh || { echo "0 passed, 1 failed (security scan)"; exit 1; }
fi

mkdir -p test-results
rm -f test-results/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=test-results/vitest.json "$@"
status=$?
# The unit suite again on Node 22 and on Node 24 (issue #20: the majors Parley supports; about
# 2.5 minutes each), counted in the summary. A run given arguments runs only what they name, so it
# skips these, and says so.
other=()
for major in 22 24; do
  if [ $# -gt 0 ]; then
    bash scripts/test-other-node.sh "$major" --skipped "npm test was given arguments ($*); run bash scripts/test-other-node.sh $major alone" || status=1
  else
    bash scripts/test-other-node.sh "$major" || status=1
  fi
  other+=(--other-node "test-results/node$major-status.json")
done
node scripts/test-summary.mjs test-results/vitest.json "${other[@]}" || status=1
exit $status
