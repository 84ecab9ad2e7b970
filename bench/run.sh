#!/usr/bin/env bash
# The standard benchmark suite: our service against Redis and the transport
# ceiling (lb-bench echo-server) at equal durability, on throwaway processes
# and free loopback ports, written as a markdown table to bench/RESULTS.md.
#
#   bash bench/run.sh [--seconds=N] [--out=FILE]
#
# Pairs: leaderboardd --fsync=none vs redis-server without persistence, and
# leaderboardd --fsync=group (the default) vs redis-server with appendonly yes
# and appendfsync always. Workloads (100,000 players on one board, uniform,
# seed 1): submit, rank and top at 8 clients x depth 32 and x depth 1, and
# ingest in batches of 100 (ours only: Redis has no fire-and-forget socket);
# submit p99 in open loop at half of lbd's maximum, next to the echo ceiling.
# Needs a release build (meson setup build --buildtype=release; ninja -C build)
# and redis-server and jq (bash tools/install-deps.sh --test).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=5
out=bench/RESULTS.md
for arg in "$@"; do
  case $arg in
    --seconds=*) seconds=${arg#--seconds=} ;;
    --out=*) out=${arg#--out=} ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

script=bench/run.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh

echo_port=$(free_port)
"$bench" echo-server --bind="tcp://127.0.0.1:$echo_port" 2>"$tmp/echo.log" &
echo_pid=$!; pids+=("$echo_pid")

rows=()
open_rows=()
ingest_rows=()
common=(--players=100000 --seed=1 --seconds="$seconds" --json)

# durability label, leaderboardd --fsync, redis-server persistence flags
run_pair() {
  local label=$1 fsync=$2; shift 2
  start_redis "$fsync" "$@"
  start_lbd "$fsync" --fsync="$fsync"

  local eps=("${lbd_eps[@]}" --redis="$redis_ep" --echo="tcp://127.0.0.1:$echo_port"
             --redis-pid="$redis_pid" --echo-pid="$echo_pid")
  local name args json
  for spec in "submit 8x32|--clients=8 --depth=32 --mix=submit=100" \
              "submit 8x1|--clients=8 --depth=1 --mix=submit=100" \
              "rank 8x32|--clients=8 --depth=32 --mix=rank=100 --preload" \
              "rank 8x1|--clients=8 --depth=1 --mix=rank=100 --preload" \
              "top 8x32|--clients=8 --depth=32 --mix=top=100" \
              "top 8x1|--clients=8 --depth=1 --mix=top=100"; do
    name=${spec%%|*}; read -r -a args <<<"${spec#*|}"
    echo "bench/run.sh: $label: $name" >&2
    json=$("$bench" requests redis echo "${common[@]}" "${eps[@]}" "${args[@]}")
    [ "$name" = "submit 8x32" ] && half_rate=$(jq -r '.runs[0].throughput / 2 | floor' <<<"$json")
    rows+=("$(jq -r --arg d "$label" --arg w "$name" '
      def run(t): .runs[] | select(.target == t);
      def lat(t): (run(t).latency_us | "\(.p50 | round) / \(.p99 | round)");
      def k(x): (x / 1000 | round | tostring) + "k";
      "| \($d) | \($w) | \(k(run("requests").throughput)) | \(k(run("redis").throughput)) | \(k(run("echo").throughput)) | \(.ratios[0].throughput * 100 | round / 100) | \(.ratios[1].throughput * 100 | round / 100) | \(lat("requests")) | \(lat("redis")) | \(lat("echo")) | \(run("requests").cpu_cores) / \(run("redis").cpu_cores) |"' <<<"$json")")
  done
  # p99 in open loop at half of lbd's closed-loop maximum, lbd next to the
  # ceiling at the same rate (Redis's own maximum differs, so it sits out).
  echo "bench/run.sh: $label: submit open loop at $half_rate/s" >&2
  json=$("$bench" requests echo "${common[@]}" "${eps[@]}" --clients=8 --rate="$half_rate" --mix=submit=100)
  open_rows+=("$(jq -r --arg d "$label" --arg r "$half_rate" '
      def run(t): .runs[] | select(.target == t);
      "| \($d) | \($r | tonumber / 1000 | round)k/s | \(run("requests").latency_us | "\(.p50 | round) / \(.p99 | round)") | \(run("echo").latency_us | "\(.p50 | round) / \(.p99 | round)") | \(.ratios[0].p99 * 100 | round / 100) |"' <<<"$json")")
  echo "bench/run.sh: $label: ingest batches of 100" >&2
  json=$("$bench" ingest "${common[@]}" "${eps[@]}" --clients=2 --batch=100)
  ingest_rows+=("$(jq -r --arg d "$label" '.runs[0] | "| \($d) | \(.throughput / 1000 | round)k events/s | \(.cpu_cores) | \(.rss_bytes / 1048576 | round) MB |"' <<<"$json")")
  stop "$lbd_pid"
  stop "$redis_pid"
}

run_pair "none (lbd --fsync=none, redis no persistence)" none --appendonly no
run_pair "fsync (lbd --fsync=group, redis appendfsync always)" group --appendonly yes --appendfsync always

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "# lb-bench results"
  echo
  echo "Written by \`bash bench/run.sh --seconds=$seconds\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $cpu, Linux $(uname -r); client and servers on the same machine)."
  echo "100,000 players on one board, uniform choice, scores uniform 0..1,000,000, seed 1;"
  echo "$seconds s measured after 1 s of warm-up per target, the targets back to back."
  echo "Ratios are lbd's throughput divided by the other target's, from the same run."
  echo
  echo "| durability | workload (clients x depth) | lbd ops/s | redis ops/s | echo ops/s | lbd/redis | lbd/echo | lbd p50 / p99 us | redis p50 / p99 us | echo p50 / p99 us | CPU cores lbd / redis |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Submit p99 in open loop at half of lbd's 8x32 maximum (8 clients; latency from each request's intended send time):"
  echo
  echo "| durability | rate | lbd p50 / p99 us | echo p50 / p99 us | lbd p99 / echo p99 |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${open_rows[@]}"
  echo
  echo "Ingest (2 PUSH clients, batches of 100 submits; counted once the service's seq shows them applied):"
  echo
  echo "| durability | applied | CPU cores | peak RSS |"
  echo "|---|---|---|---|"
  printf '%s\n' "${ingest_rows[@]}"
} >"$out"
echo "bench/run.sh: wrote $out" >&2
cat "$out"
