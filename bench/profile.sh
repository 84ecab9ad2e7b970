#!/usr/bin/env bash
# Where the time goes: the service next to the transport ceiling (lb-bench
# echo-server), per request, written as markdown to bench/PROFILE.md.
#
#   bash bench/profile.sh [--seconds=N] [--out=FILE]
#
# For submit and rank at 8 clients x depth 32 and x depth 1 (100,000 players,
# --fsync=none), each target in turn, with `perf stat` attached for the
# measured seconds: syscalls, context switches and CPU per request, and CPU
# cores per 100k requests/s. Then what a core buys: the same submits with
# each target pinned to one core (taskset) and on both. Last, a call-graph
# profile of the service (`perf record`) under submit 8x32: the top
# functions by their own samples, and the threads they ran on.
# Needs a release build, jq and linux-perf (bash tools/install-deps.sh
# --bench), and perf access to tracepoints (root, or
# kernel.perf_event_paranoid=-1).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=4
out=bench/PROFILE.md
for arg in "$@"; do
  case $arg in
    --seconds=*) seconds=${arg#--seconds=} ;;
    --out=*) out=${arg#--out=} ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/profile.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

awk -v s="$seconds" 'BEGIN { exit !(s + 0 >= 2 && s + 0 <= 3600) }' \
  || { echo "bench/profile.sh: --seconds must be a number from 2 to 3600 (got '$seconds')" >&2; exit 2; }

script=bench/profile.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh
command -v perf >/dev/null || { echo "$script: perf is not installed: run bash tools/install-deps.sh --bench" >&2; exit 1; }
perf stat -e raw_syscalls:sys_enter -- true >/dev/null 2>&1 \
  || { echo "$script: perf cannot count syscalls (tracepoints): run as root or set kernel.perf_event_paranoid=-1" >&2; exit 1; }

echo_port=$(free_port)
"$bench" echo-server --bind="tcp://127.0.0.1:$echo_port" 2>"$tmp/echo.log" &
echo_pid=$!; pids+=("$echo_pid")
start_lbd none --fsync=none
common=(--players=100000 --seed=1 --seconds="$seconds" --warmup-ms=1000 --json)

# target (requests|echo) -> its pid and lb-bench flags
pid_of() { if [ "$1" = requests ]; then echo "$lbd_pid"; else echo "$echo_pid"; fi; }
flags_of() {
  if [ "$1" = requests ]; then echo "--requests=$lbd_ep --requests-pid=$lbd_pid"
  else echo "--echo=tcp://127.0.0.1:$echo_port --echo-pid=$echo_pid"; fi
}

# One lb-bench run with perf stat attached to the target for the measured
# window (it starts after the warm-up and stops half a second early, so it
# never counts the idle tail). Prints one markdown row.
measure() { # target, workload name, lb-bench flags...
  local target=$1 name=$2; shift 2
  local pid window json
  pid=$(pid_of "$target")
  window=$(awk -v s="$seconds" 'BEGIN { printf "%.2f", s - 0.5 }')
  # shellcheck disable=SC2046
  "$bench" "$target" $(flags_of "$target") "${common[@]}" "$@" >"$tmp/run.json" 2>/dev/null &
  local bench_pid=$!
  sleep 1.2
  if ! perf stat -x, -e raw_syscalls:sys_enter,context-switches,task-clock -p "$pid" \
         -o "$tmp/stat.csv" -- sleep "$window" 2>/dev/null \
     || grep -q "not counted\|not supported" "$tmp/stat.csv"; then
    kill "$bench_pid" 2>/dev/null
    echo "$script: perf stat could not count $target ($name): $(cat "$tmp/stat.csv" 2>/dev/null)" >&2
    exit 1
  fi
  wait "$bench_pid" || { echo "$script: lb-bench $target $name failed" >&2; exit 1; }
  json=$(cat "$tmp/run.json")
  jq -r --arg t "$target" --arg w "$name" --argjson win "$window" \
     --rawfile stat "$tmp/stat.csv" '
    def count(ev): [$stat | split("\n")[] | split(",") | select(.[2] == ev) | .[0] | tonumber][0];
    .runs[0] as $r | ($r.throughput * $win) as $ops |
    "| \($w) | \($t) | \($r.throughput / 1000 | round)k | \(count("raw_syscalls:sys_enter") / $ops * 100 | round / 100) | \(count("context-switches") / $ops * 100 | round / 100) | \(count("task-clock") * 1000 / $ops * 100 | round / 100) | \($r.cores_per_100k * 100 | round / 100) | \($r.latency_us.p50 | round) / \($r.latency_us.p99 | round) |"' <<<"$json"
}

pin() { # pid, cpu list
  taskset -a -pc "$2" "$1" >/dev/null
}

workloads=("submit 8x32|--clients=8 --depth=32 --mix=submit=100"
           "submit 8x1|--clients=8 --depth=1 --mix=submit=100"
           "rank 8x32|--clients=8 --depth=32 --mix=rank=100"
           "rank 8x1|--clients=8 --depth=1 --mix=rank=100")
per_request=()
echo "$script: preloading 100,000 players" >&2
"$bench" requests --requests="$lbd_ep" --players=100000 --seed=1 --preload --seconds=0.1 \
  --mix=rank=100 >/dev/null 2>&1
for spec in "${workloads[@]}"; do
  name=${spec%%|*}; read -r -a args <<<"${spec#*|}"
  for target in requests echo; do
    echo "$script: $name against $target" >&2
    per_request+=("$(measure "$target" "$name" "${args[@]}")")
  done
done

cores=()
all_cpus="0-$(($(nproc) - 1))"
for cpus in 0 "$all_cpus"; do
  for spec in "${workloads[@]:0:2}"; do
    name=${spec%%|*}; read -r -a args <<<"${spec#*|}"
    for target in requests echo; do
      echo "$script: $name against $target on cpus $cpus" >&2
      pin "$(pid_of "$target")" "$cpus"
      cores+=("$(measure "$target" "$name" "${args[@]}" | sed "s/^| $name |/| $name | $cpus |/")")
    done
  done
done
pin "$lbd_pid" "$all_cpus"; pin "$echo_pid" "$all_cpus"

echo "$script: profiling the service under submit 8x32" >&2
"$bench" requests $(flags_of requests) "${common[@]}" --clients=8 --depth=32 --mix=submit=100 \
  >/dev/null 2>&1 &
bench_pid=$!
sleep 1.2
record_s=$(awk -v s="$seconds" 'BEGIN { print (s > 3 ? 3 : s - 1) }')
perf record -F 999 -p "$lbd_pid" -o "$tmp/perf.data" -- sleep "$record_s" \
  >/dev/null 2>&1
wait "$bench_pid" || true
# Template arguments and parameter lists make C++ symbols a screen wide:
# drop them, and perf's empty columns and padding.
short_symbols() { perl -pe '1 while s/<[^<>]*>//g; s/\(anonymous namespace\):://g; s/\s+-\s+-\s*$/\n/; s/[ \t]+$//' | uniq; }
top_self=$(perf report -i "$tmp/perf.data" --no-children --sort symbol --stdio -g none \
             --percent-limit 0.8 2>/dev/null | grep -E '^ +[0-9]' | short_symbols | head -30)
top_threads=$(perf report -i "$tmp/perf.data" --no-children --sort comm --stdio -g none \
                2>/dev/null | grep -E '^ +[0-9]' | short_symbols | head -8)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "# Where the time goes"
  echo
  echo "Written by \`bash bench/profile.sh --seconds=$seconds\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $cpu, Linux $(uname -r); client and servers on the same machine)."
  echo "leaderboardd --fsync=none (exact replies) and lb-bench echo-server (the transport ceiling: ZeroMQ ROUTER, msgpack decode, a reply), 100,000 players preloaded, uniform, seed 1."
  echo "Per request = the target's counts from \`perf stat -p\` over ${seconds}-0.5 s of the measured window, divided by the requests answered in it."
  echo
  echo "## Per request"
  echo
  echo "| workload | target | req/s | syscalls | context switches | CPU us | CPU cores per 100k req/s | p50 / p99 us |"
  echo "|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${per_request[@]}"
  echo
  echo "## What a core buys"
  echo
  echo "Each target pinned with \`taskset -a -p\` to the CPUs listed; the load client is not pinned (on 2 cores it shares them)."
  echo
  echo "| workload | target CPUs | target | req/s | syscalls | context switches | CPU us | CPU cores per 100k req/s | p50 / p99 us |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${cores[@]}"
  echo
  echo "## Profile: leaderboardd under submit 8x32"
  echo
  echo "\`perf record -F 999\` on the service; \`perf report --no-children --sort symbol\` (own samples; functions over 0.8%). Callers: \`perf record --call-graph dwarf\` (the release build has no frame pointers)."
  echo
  echo '```'
  echo "$top_self"
  echo '```'
  echo
  echo "By thread (\`--sort comm\`):"
  echo
  echo '```'
  echo "$top_threads"
  echo '```'
} >"$out"
echo "$script: wrote $out" >&2
cat "$out"
