#!/usr/bin/env bash
# What a season rollover costs the requests around it (issue 15's target:
# submit p99 during a rollover at most 2x the p99 without one). One board of
# --players entries, an open-loop submit load of --rate requests/s from
# lb-bench on the requests socket, and windows of --seconds: in every other
# one a `reset --archive` (the rollover a schedule makes) comes half way
# through. Before each window the board is filled to --players entries again,
# so every rollover closes a full board; the board keeps one closed season,
# so from the second rollover on each one also drops a season of that size.
#
# Also what a kept season costs: the service's RSS per entry with the board
# live, then once it is a closed season.
#
# Prints each window, then the medians and their ratios, as a markdown
# table (also to --out).
#
#   bash bench/rollover.sh [--players=N] [--rate=R] [--rounds=N] [--seconds=S] [--out=FILE] [--build=DIR]
#
#   --players=N   entries on the board when it rolls over (default 1000000)
#   --rate=R      submits/s, open loop (default 5000)
#   --rounds=N    windows of each kind (default 5)
#   --seconds=S   measured seconds per window (default 2)
#   --out=FILE    also write the table there
#   --build=DIR   the release build with the programs (default build)
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

script=bench/rollover.sh
players=1000000
rate=5000
rounds=5
seconds=2
out=
build=build
source bench/args.sh
for arg in "$@"; do
  case $arg in
    --players=*) players=${arg#*=} ;;
    --rate=*) rate=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --seconds=*) seconds=${arg#*=} ;;
    --out=*) out=$(abs_path "${arg#*=}") ;;
    --build=*) build=$(abs_path "${arg#*=}") ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$arg'" ;;
  esac
done
whole players "$players" 1 100000000
whole rate "$rate" 1 1000000
whole rounds "$rounds" 1 20
whole seconds "$seconds" 1 600
needs_redis=no
source bench/lib.sh
source bench/measure.sh
started=$SECONDS

warmup_ms=500
start_lbd rollover --fsync=none --snapshot-every-events=0 --snapshot-every-s=0
lbctl_at=("$lbctl" --endpoint="$lbd_ep")
rss_empty=$(rss_of "$lbd_pid")
"${lbctl_at[@]}" configure bench0 --keep=1 >/dev/null

fill() {
  "$bench" ingest "${lbd_eps[@]}" --players="$players" --preload --seconds=1 --warmup-ms=0 \
    --clients=2 --batch=100 --json >/dev/null || fail "the fill failed; the service's log: $lbd_log"
  # lb-bench counts events the log took; the shards may still be applying
  # up to the gateway's ingest bound. A window starts on an idle service.
  for _ in $(seq 100); do
    busy=$("${lbctl_at[@]}" stats --json | jq '[.shards[].mailbox] | add')
    [ "$busy" = 0 ] && return
    sleep 0.1
  done
}

# One window: p99, p99.9 and max latency in ms, on one line.
window() { # with a rollover: yes or no
  local roller=
  if [ "$1" = yes ]; then
    # Half way through the measured seconds (lb-bench needs a moment to connect).
    (sleep "$(calc "printf \"%.3f\", ($warmup_ms / 1000) + $seconds / 2")"
      "${lbctl_at[@]}" reset bench0 --archive >/dev/null) &
    roller=$!
  fi
  "$bench" requests --requests="$lbd_ep" --players="$players" --rate="$rate" \
    --seconds="$seconds" --warmup-ms="$warmup_ms" --json 2>/dev/null |
    jq -r '.runs[0].latency_us | [."p99", ."p99.9", .max] | map(. / 100 | round / 10) | @tsv' ||
    fail "lb-bench failed; the service's log: $lbd_log"
  if [ -n "$roller" ]; then
    wait "$roller" || fail "the rollover (lbctl reset --archive) failed; the service's log: $lbd_log"
  fi
}

declare -A p99 p999 worst
rss_live=0
rss_kept=0
for round in $(seq "$rounds"); do
  for kind in no yes; do
    fill
    if [ "$round" = 1 ] && [ "$kind" = yes ]; then
      rss_live=$(rss_of "$lbd_pid")
    fi
    read -r a b c < <(window "$kind")
    if [ "$round" = 1 ] && [ "$kind" = yes ]; then
      rss_kept=$(rss_of "$lbd_pid")
    fi
    p99[$kind]+="$a "
    p999[$kind]+="$b "
    worst[$kind]+="$c "
    say "round $round/$rounds, rollover: $kind: p99 $a ms, p99.9 $b ms, max $c ms"
  done
done
seasons=$("${lbctl_at[@]}" seasons bench0 --json)
stop "$lbd_pid"

med() { echo "$1" | tr ' ' '\n' | grep . | median; }
table() {
  echo "| submit latency (ms) | without a rollover | with one | with ÷ without |"
  echo "|---|---|---|---|"
  for m in p99 p99.9 max; do
    case $m in
      p99) w=$(med "${p99[no]}"); r=$(med "${p99[yes]}") ;;
      p99.9) w=$(med "${p999[no]}"); r=$(med "${p999[yes]}") ;;
      max) w=$(med "${worst[no]}"); r=$(med "${worst[yes]}") ;;
    esac
    echo "| $m | $w | $r | $(calc "printf \"%.2f\", $r / $w") |"
  done
  echo
  echo "| RSS per entry | bytes |"
  echo "|---|---|"
  echo "| the board live ($(group "$players") entries) | $(calc "printf \"%.0f\", ($rss_live - $rss_empty) / $players") |"
  echo "| the same entries as a kept season, after the rollover | $(calc "printf \"%.0f\", ($rss_kept - $rss_empty) / $players") |"
  echo
  echo "Medians of $rounds windows of each kind, ${seconds} s each at $(group "$rate") submits/s (open loop), one board of $(group "$players") players rolled over half way through every other window (\`reset --archive\`, keep 1), \`--fsync=none\`; \`bash bench/rollover.sh\` on $(nproc) cores, $(date -u +%Y-%m-%d). The second RSS row also holds the new season's few thousand entries of the window."
  echo
  echo "The board's seasons at the end: $(echo "$seasons" | jq -c '[.seasons[] | {season, total}]')"
}
table | tee ${out:+"$out"}
