#!/usr/bin/env bash
# Sets up and runs every test suite, as CI does:
#   0. style: clang-format --dry-run reports nothing on any tracked source
#   1. the release build: all suites (codec, structure, transport, concurrency, durability,
#      bench, install), the clients' checks (tools/clients/*/check.sh: Python, the C++
#      library's examples against its installed copy, Node), then bench/scale.sh and
#      bench/boards.sh at small sizes (a smoke run each)
#   2. ASan+UBSan: the decoders, the ranking structures, storage, key files and the actors
#   3. ThreadSanitizer (with a TSan build of CAF): the real binary
#   4. libFuzzer on the request decoder for $LBD_FUZZ_SECONDS (default 60)
# Every build treats warnings as errors (-Dwerror=true).
# Ends with one line "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
fuzz_seconds=${LBD_FUZZ_SECONDS:-60}
passed=0
failed=0

step() { printf '\n== %s\n' "$*"; }
die() { echo "run-all: $*" >&2; echo "tests: $passed passed, $((failed + 1)) failed"; exit 1; }

# Runs `meson test` in a build dir and adds its counts to the totals.
run_suites() {
  local dir=$1; shift
  local log; log=$(mktemp)
  meson test -C "$dir" --print-errorlogs "$@" 2>&1 | tee "$log"
  local ok fail
  ok=$(awk '/^Ok:/ {print $2}' "$log"); fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {s+=$2} END {print s+0}' "$log")
  passed=$((passed + ${ok:-0})); failed=$((failed + fail))
  if [ -z "$ok" ]; then failed=$((failed + 1)); echo "run-all: no test ran in $dir" >&2; fi
  rm -f "$log"
}

# Configures a build dir once (warnings are errors), reconfigures if it exists.
setup() {
  local dir=$1; shift
  set -- -Dwerror=true "$@"
  if [ -d "$dir/meson-private" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null || die "meson setup $dir failed"
  else
    meson setup "$dir" "$@" >/dev/null || die "meson setup $dir failed"
  fi
}

step "dependencies"
bash tools/install-deps.sh --test || die "could not install the Debian packages"

step "style: clang-format"
if git rev-parse --git-dir >/dev/null 2>&1; then
  mapfile -t sources < <(git ls-files '*.cpp' '*.hpp')
else
  mapfile -t sources < <(find actors schemas transport tools tests -name '*.cpp' -o -name '*.hpp')
fi
if clang-format --dry-run --Werror "${sources[@]}"; then
  passed=$((passed + 1)); echo "clang-format: ${#sources[@]} files clean"
else
  failed=$((failed + 1)); echo "run-all: run clang-format -i on the files above" >&2
fi

step "release build: every suite"
setup build --buildtype=release
ninja -C build || die "build failed"
run_suites build

step "clients: Python (pytest), C++ (examples against the installed library), Node"
# Each prints one line; 77 means it could not run here (the Node check when
# the npm registry is unreachable), which is reported, not counted.
skipped=()
for check in "tools/clients/python/check.sh" "tools/clients/cpp/check.sh build" \
             "tools/clients/node/check.sh build/tools/leaderboardd"; do
  status=0
  # shellcheck disable=SC2086 # the script and its argument, split on purpose
  BUILD_DIR=build bash $check || status=$?
  case $status in
    0) passed=$((passed + 1)) ;;
    77) skipped+=("$check") ;;
    *) failed=$((failed + 1)); echo "run-all: $check failed" >&2 ;;
  esac
done

step "bench smoke: bench/scale.sh and bench/boards.sh at small sizes"
# Each runs end to end on the release build in under a minute; a non-zero
# exit (a tool failed, a count came out wrong) counts as one failure.
smoke_out=$(mktemp)
for smoke in "bench/scale.sh --players=100000 --small=10000" "bench/boards.sh --boards=10000"; do
  # shellcheck disable=SC2086 # the script and its flags, split on purpose
  if bash $smoke --out="$smoke_out" >/dev/null; then
    passed=$((passed + 1)); echo "$smoke: ok"
  else
    failed=$((failed + 1)); echo "run-all: $smoke failed" >&2
  fi
done
rm -f "$smoke_out"

step "ASan+UBSan: codec, structure, transport and actors suites"
# -g1: line tables only, enough for file:line in a report, and a quicker build than -g.
setup build-asan --buildtype=debugoptimized -Dcpp_args=-g1 -Db_sanitize=address,undefined -Db_lundef=false -Dallocator=system
ninja -C build-asan tests/unit/test_codec tests/unit/test_cron tests/unit/test_order_tree tests/unit/test_storage \
  tests/unit/test_actors tests/unit/test_board_index tests/unit/test_player_index \
  tests/unit/test_view_keys tests/unit/test_curve_keys tests/unit/test_client_curve \
  tests/unit/test_log_trouble \
  || die "ASan build failed"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  run_suites build-asan --no-rebuild --suite codec --suite structure --suite transport --suite actors

step "ThreadSanitizer: concurrency suite"
caf_tsan=$(bash tests/build-caf-tsan.sh) || die "could not build CAF with ThreadSanitizer"
setup build-tsan --buildtype=debugoptimized -Db_sanitize=thread -Dcaf_prefix="$caf_tsan" -Dallocator=system
ninja -C build-tsan tests/system/test_e2e tests/system/test_updates tests/system/test_access tests/system/test_ingest_ack \
  tests/system/test_lbctl tools/leaderboardd tools/lbctl || die "TSan build failed"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp" LBD_TEST_SCALE=tsan \
  run_suites build-tsan --no-rebuild --suite concurrency --timeout-multiplier 3

step "libFuzzer: request decoder for ${fuzz_seconds}s"
CXX=clang++ setup build-fuzz --buildtype=debugoptimized -Dcpp_args=-g1 -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dallocator=system
ninja -C build-fuzz tests/fuzz/fuzz_decode || die "fuzz build failed"
corpus=$(mktemp -d)
cp tests/fuzz/corpus/* "$corpus"/ 2>/dev/null
if ./build-fuzz/tests/fuzz/fuzz_decode -max_total_time="$fuzz_seconds" -max_len=65536 \
     -print_final_stats=1 "$corpus" 2>fuzz.log; then
  passed=$((passed + 1)); tail -3 fuzz.log
else
  failed=$((failed + 1)); tail -40 fuzz.log
fi
rm -rf "$corpus"

echo
for s in "${skipped[@]}"; do echo "skipped (could not run here, see above): $s"; done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
