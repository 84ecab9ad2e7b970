#!/usr/bin/env bash
# The performance targets beyond bench/run.sh's throughput ratios, each measured on
# throwaway processes and written as markdown to bench/TARGETS.md:
#
#   latency   p99 of submit (8 clients, open loop) at half the closed-loop
#             maximum (8 x 32), under --fsync=group and --fsync=none
#   ingest    events/s applied, batches of 100 from 2 PUSH clients, sustained
#             for --ingest-s, under group and none
#   memory    RSS growth per entry after loading 1M and 10M players with
#             14-byte ids (lb-bench --preload), and Redis's for the same
#   soak      RSS each minute of --soak-s of submits on the 1M players
#   merge     on the 10M board: 10,000 changes per 50 ms merge interval
#             (ingest at 200,000 events/s); merges per second and the slowest
#   scaling   submit 8 x 32 with --shards 1, 2 and 4
#
#   bash bench/targets.sh [--soak-s=N] [--ingest-s=N] [--big=N] [--out=FILE]
#
# Takes about 20 minutes with the defaults (soak 600 s, ingest 60 s, big
# 10,000,000 players; the 10M board needs about 5 GB of memory). Needs a
# release build and redis-server and jq, like bench/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

soak=600
ingest_s=60
big=10000000
out=bench/TARGETS.md
for arg in "$@"; do
  case $arg in
    --soak-s=*) soak=${arg#--soak-s=} ;;
    --ingest-s=*) ingest_s=${arg#--ingest-s=} ;;
    --big=*) big=${arg#--big=} ;;
    --out=*) out=${arg#--out=} ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/targets.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

script=bench/targets.sh
# shellcheck source=bench/lib.sh
source bench/lib.sh

say() { echo "bench/targets.sh: $*" >&2; }
k() { awk -v x="$1" 'BEGIN { printf "%.0fk", x / 1000 }'; }
stats_of() { "$lbctl" --endpoint="$1" --timeout-ms=120000 stats --json; }
rss_mb() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
# No snapshots while loading: one would keep a whole view alive as it
# writes, which is memory the entries themselves do not need.
quiet_lbd=(--fsync=none --snapshot-every-events=0 --snapshot-every-s=0)
report=()
add() { report+=("$*"); }

# -- latency --------------------------------------------------------------------
echo_port=$(free_port)
"$bench" echo-server --bind="tcp://127.0.0.1:$echo_port" 2>"$tmp/echo.log" &
pids+=("$!")
add "## Latency: p99 of submit at half the maximum throughput"
add ""
add "8 clients, 100,000 players. The maximum is closed loop at depth 32; the half-rate run is open loop (latency from each request's intended send time, sends on a 1 ms schedule), against lbd and then against the echo ceiling at the same rate, whose latency is this machine's floor."
add ""
add "| --fsync | max submits/s (8 x 32) | open loop at | lbd p50 / p99 / p99.9 us | echo p50 / p99 / p99.9 us |"
add "|---|---|---|---|---|"
for fsync in group none; do
  say "latency: --fsync=$fsync: the maximum"
  start_lbd "lat-$fsync" --fsync="$fsync"
  max=$("$bench" requests "${lbd_eps[@]}" --clients=8 --depth=32 --seconds=5 --json | jq '.runs[0].throughput')
  half=$(awk -v x="$max" 'BEGIN { printf "%d", x / 2 }')
  say "latency: --fsync=$fsync: open loop at $half/s"
  json=$("$bench" requests echo "${lbd_eps[@]}" --echo="tcp://127.0.0.1:$echo_port" --clients=8 \
    --rate="$half" --seconds=10 --json)
  add "$(jq -r --arg f "$fsync" --arg m "$(k "$max")" --arg h "$(k "$half")" '
    def lat(t): (.runs[] | select(.target == t) | .latency_us |
                 "\(.p50 | round) / \(.p99 | round) / \(."p99.9" | round)");
    "| \($f) | \($m) | \($h)/s | \(lat("requests")) | \(lat("echo")) |"' <<<"$json")"
  stop "$lbd_pid"
done

# -- ingest ---------------------------------------------------------------------
add ""
add "## Ingest: events/s applied, sustained"
add ""
add "2 PUSH clients, batches of 100 submits, 100,000 players, $ingest_s s; counted once the service's seq shows every event applied."
add ""
add "| --fsync | applied events/s | CPU cores | peak RSS MB |"
add "|---|---|---|---|"
for fsync in group none; do
  say "ingest: --fsync=$fsync for $ingest_s s"
  start_lbd "ingest-$fsync" --fsync="$fsync"
  json=$("$bench" ingest "${lbd_eps[@]}" --clients=2 --batch=100 --seconds="$ingest_s" --json)
  add "$(jq -r --arg f "$fsync" '.runs[0] |
    "| \($f) | \(.throughput | round) | \(.cpu_cores) | \(.rss_bytes / 1048576 | round) |"' <<<"$json")"
  stop "$lbd_pid"
done

# -- memory and soak --------------------------------------------------------------
add ""
add "## Memory: RSS growth per entry (14-byte player ids, one board)"
add ""
add "lbd loads through ingest batches, Redis through ZADD (8 clients x 32); each grows from an empty start."
add ""
add "| players | lbd bytes/entry | redis bytes/entry | lbd / redis |"
add "|---|---|---|---|"
per_entry() { # lb-bench json -> bytes per entry
  jq '.runs[0] | .preload_rss_growth / .preloaded | round' <<<"$1"
}
soak_rows=()
merge_row=""
for players in 1000000 "$big"; do
  say "memory: lbd with $players players"
  start_lbd "mem-$players" "${quiet_lbd[@]}"
  lbd_mem=$(per_entry "$("$bench" ingest "${lbd_eps[@]}" --preload --players="$players" \
    --clients=2 --seconds=1 --json)")
  if [ "$players" = 1000000 ]; then
    say "soak: $soak s of submits on the same $players players"
    "$bench" requests "${lbd_eps[@]}" --players="$players" --clients=8 --depth=32 \
      --seconds="$soak" --warmup-ms=0 --quiet --json >"$tmp/soak.json" &
    soak_pid=$!; pids+=("$soak_pid")
    for ((t = 0; t <= soak; t += 60)); do
      soak_rows+=("| $((t / 60)) | $(rss_mb "$lbd_pid") |")
      say "soak: minute $((t / 60)) of $((soak / 60)): RSS $(rss_mb "$lbd_pid") MB"
      [ "$t" -lt "$soak" ] && sleep $((soak - t < 60 ? soak - t : 60))
    done
    wait "$soak_pid"
    soak_rows+=("| after | $(rss_mb "$lbd_pid") |")
    soak_rate=$(jq '.runs[0].throughput | round' "$tmp/soak.json")
  else
    say "merge: 10,000 changes per 50 ms interval on $players players"
    # stats hashes every entry for its digest: seconds at 10M, so it is
    # asked only before and after, and given time to answer.
    m0=$(stats_of "$lbd_ep" | jq '.merges.count')
    t0=$(date +%s.%N)
    json=$("$bench" ingest "${lbd_eps[@]}" --players="$players" --clients=2 --rate=200000 \
      --seconds=20 --quiet --json)
    t1=$(date +%s.%N)
    merges=$(stats_of "$lbd_ep")
    applied=$(jq '.runs[0].throughput | round' <<<"$json")
    merge_row="| $players | $applied | $(jq -r --arg a "$m0" --arg s "$t0" --arg e "$t1" \
      '(.merges.count - ($a | tonumber)) / (($e | tonumber) - ($s | tonumber)) * 10 | round / 10' <<<"$merges") | 20 | $(jq '.merges.max_us' <<<"$merges") |"
  fi
  stop "$lbd_pid"
  say "memory: redis with $players players"
  start_redis "mem-$players" --appendonly no
  redis_mem=$(per_entry "$("$bench" redis --redis="$redis_ep" --redis-pid="$redis_pid" \
    --preload --players="$players" --seconds=1 --json)")
  stop "$redis_pid"
  add "| $players | $lbd_mem | $redis_mem | $(awk -v a="$lbd_mem" -v b="$redis_mem" 'BEGIN { printf "%.2f", a / b }') |"
done
add ""
add "## Soak: RSS at a constant 1,000,000 players"
add ""
add "Submits of random scores for existing players, 8 clients x 32, $soak s (${soak_rate:-?} submits/s on average)."
add ""
add "| minute | RSS MB |"
add "|---|---|"
for r in "${soak_rows[@]}"; do add "$r"; done
add ""
add "## Merge: a big board keeps its interval"
add ""
add "Ingest at 200,000 events/s for 20 s on a loaded board: 10,000 changes per 50 ms merge. From \`stats\` \`merges\`: timer merges completed per second over the run (a merge still running when its tick comes skips that tick), and \`max_us\`, the slowest tick-to-view time of the last 256 merges, read right after the run."
add ""
add "| players | applied events/s | merges/s | merges/s at the interval | slowest merge us |"
add "|---|---|---|---|---|"
add "$merge_row"

# -- scaling -----------------------------------------------------------------------
add ""
add "## Scaling: shards on this machine"
add ""
add "submit, 8 clients x 32, 100,000 players, --fsync=none, 5 s each."
add ""
add "| --shards | submits/s | vs 1 shard | CPU cores |"
add "|---|---|---|---|"
one=""
for shards in 1 2 4; do
  say "scaling: --shards=$shards"
  start_lbd "shards-$shards" --fsync=none --shards="$shards"
  json=$("$bench" requests "${lbd_eps[@]}" --clients=8 --depth=32 --seconds=5 --json)
  rate=$(jq '.runs[0].throughput | round' <<<"$json")
  one=${one:-$rate}
  add "| $shards | $rate | $(awk -v a="$rate" -v b="$one" 'BEGIN { printf "%.2f", a / b }') | $(jq '.runs[0].cpu_cores' <<<"$json") |"
  stop "$lbd_pid"
done

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "# Performance targets"
  echo
  echo "Written by \`bash bench/targets.sh --soak-s=$soak --ingest-s=$ingest_s --big=$big\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $cpu, Linux $(uname -r); client and servers on the same machine)."
  echo
  printf '%s\n' "${report[@]}"
} >"$out"
say "wrote $out"
cat "$out"
