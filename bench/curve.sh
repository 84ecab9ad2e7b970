#!/usr/bin/env bash
# What CURVE costs: the same leaderboardd, without keys and with
# --curve-secret (every client's key listed as an admin), in alternating
# rounds of one invocation, under lb-bench:
#
#   submit 8x32   8 connections, 32 requests in flight each, --fsync=none
#   submit 1x1    one connection, one request at a time (the latency cost)
#   rank 8x32     reads
#   ingest        2 PUSH connections, batches of 100
#
# Prints each round, then the medians and the ratio keyed / plain, as a
# markdown table (also to --out).
#
#   bash bench/curve.sh [--rounds=N] [--seconds=S] [--out=FILE] [--build=DIR]
#
#   --rounds=N   rounds of each setup (default 3)
#   --seconds=S  measured seconds per run (default 5)
#   --out=FILE   also write the table there
#   --build=DIR  the release build with the programs (default build)
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

script=bench/curve.sh
rounds=3
seconds=5
out=
build=build
source bench/args.sh
for arg in "$@"; do
  case $arg in
    --rounds=*) rounds=${arg#*=} ;;
    --seconds=*) seconds=${arg#*=} ;;
    --out=*) out=$(abs_path "${arg#*=}") ;;
    --build=*) build=$(abs_path "${arg#*=}") ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$arg'" ;;
  esac
done
[[ $rounds =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] && [ "$rounds" -le 20 ] ||
  usage_error "--rounds must be a whole number from 1 to 20, got '$rounds'"
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] && [ "$seconds" -le 600 ] ||
  usage_error "--seconds must be a whole number from 1 to 600, got '$seconds'"
needs_redis=no
source bench/lib.sh
source bench/measure.sh
started=$SECONDS

# One key pair for the server, one for every client (an admin: the bench
# submits and reads).
"$lbctl" keygen "$tmp/server" >/dev/null
"$lbctl" keygen "$tmp/client" >/dev/null
cp "$tmp/client.pub" "$tmp/admins"
keys=(--curve-server-key="$tmp/server.pub" --curve-key="$tmp/client.key")

workloads=("submit 8x32" "submit 1x1" "rank 8x32" "ingest")
run() { # workload, lb-bench flags for the keys...
  local w=$1; shift
  local common=("${lbd_eps[@]}" --seconds="$seconds" --players=100000 --json "$@")
  case $w in
    "submit 8x32") "$bench" requests "${common[@]}" --clients=8 --depth=32 --mix=submit=100 ;;
    "submit 1x1") "$bench" requests "${common[@]}" --clients=1 --depth=1 --mix=submit=100 ;;
    "rank 8x32") "$bench" requests "${common[@]}" --clients=8 --depth=32 --mix=rank=100 --preload ;;
    ingest) "$bench" ingest "${common[@]}" --clients=2 --batch=100 ;;
  esac | jq '.runs[0].throughput | round'
}

declare -A got
for round in $(seq "$rounds"); do
  for setup in plain curve; do
    flags=(--fsync=none --snapshot-every-events=0 --snapshot-every-s=0)
    client=()
    lbd_keys=()
    if [ $setup = curve ]; then
      flags+=(--curve-secret="$tmp/server.key" --admins="$tmp/admins")
      client=("${keys[@]}")
      lbd_keys=("${keys[@]}")
    fi
    for w in "${workloads[@]}"; do
      start_lbd "$setup-$round" "${flags[@]}"
      v=$(run "$w" ${client[@]+"${client[@]}"}) || fail "lb-bench failed on $w ($setup); the service's log: $lbd_log"
      stop "$lbd_pid"
      rm -rf "$lbd_data"
      got["$setup/$w"]+="$v "
      say "round $round/$rounds, $setup, $w: $(group "$v")/s"
    done
  done
done

table() {
  echo "| workload | without keys | with CURVE | ratio |"
  echo "|---|---|---|---|"
  for w in "${workloads[@]}"; do
    p=$(echo "${got[plain/$w]}" | tr ' ' '\n' | grep . | median)
    c=$(echo "${got[curve/$w]}" | tr ' ' '\n' | grep . | median)
    echo "| $w | $(group "$p")/s | $(group "$c")/s | $(calc "printf \"%.2f\", $c / $p") |"
  done
  echo
  echo "Medians of $rounds alternating rounds of ${seconds} s, \`--fsync=none\`, 100,000 players; \`bash bench/curve.sh\` on $(nproc) cores, $(date -u +%Y-%m-%d)."
}
table | tee ${out:+"$out"}
