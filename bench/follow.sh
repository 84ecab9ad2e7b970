#!/usr/bin/env bash
# What following players costs the service: lb-bench's ingest (2 PUSH
# connections, batches of 100, --fsync=none) into one board of --players
# entries, with no follower, then with subscribers following F players of
# that board on follow/<board>/<player>, in alternating rounds of one
# invocation. Each followed player is ranked on every merged view, so the
# cost should follow F, not the board's size.
#
# Prints each round, then the medians, the ratio to no followers, and the
# follow/ messages received per second, as a markdown table (also to --out).
#
#   bash bench/follow.sh [--players=N] [--follows=F,F...] [--rounds=N] [--seconds=S] [--out=FILE] [--build=DIR]
#
#   --players=N   entries on the board (default 100000)
#   --follows=L   the follower counts to compare with none (default 100,10000)
#   --rounds=N    rounds of each setup (default 3)
#   --seconds=S   measured seconds per run (default 5)
#   --out=FILE    also write the table there
#   --build=DIR   the release build with the programs (default build)
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

script=bench/follow.sh
players=100000
follows=100,10000
rounds=3
seconds=5
out=
build=build
source bench/args.sh
for arg in "$@"; do
  case $arg in
    --players=*) players=${arg#*=} ;;
    --follows=*) follows=${arg#*=} ;;
    --rounds=*) rounds=${arg#*=} ;;
    --seconds=*) seconds=${arg#*=} ;;
    --out=*) out=$(abs_path "${arg#*=}") ;;
    --build=*) build=$(abs_path "${arg#*=}") ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$arg'" ;;
  esac
done
[[ $players =~ ^[0-9]+$ ]] && [ "$players" -ge 1 ] || usage_error "--players must be a whole number, got '$players'"
[[ $follows =~ ^[0-9]+(,[0-9]+)*$ ]] || usage_error "--follows must be whole numbers separated by commas, got '$follows'"
[[ $rounds =~ ^[0-9]+$ ]] && [ "$rounds" -ge 1 ] && [ "$rounds" -le 20 ] ||
  usage_error "--rounds must be a whole number from 1 to 20, got '$rounds'"
[[ $seconds =~ ^[0-9]+$ ]] && [ "$seconds" -ge 1 ] && [ "$seconds" -le 600 ] ||
  usage_error "--seconds must be a whole number from 1 to 600, got '$seconds'"
/usr/bin/python3 -c 'import zmq' 2>/dev/null ||
  { echo "$script: /usr/bin/python3 has no zmq: run bash tools/install-deps.sh --test" >&2; exit 1; }
needs_redis=no
source bench/lib.sh
source bench/measure.sh
started=$SECONDS

# Follows F of lb-bench's players of board bench0 (spread over the board)
# and counts the follow/ messages until SIGTERM, then prints the count.
follower() { # updates endpoint, F, count file
  exec /usr/bin/python3 - "$@" <<'PY' # exec: $! is the python, which SIGTERM stops
import signal, sys, zmq
ep, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
players = int(sys.argv[4]) if len(sys.argv) > 4 else 0
sub = zmq.Context().socket(zmq.SUB)
sub.setsockopt(zmq.RCVHWM, 0)
sub.connect(ep)
step = max(1, players // max(1, n))
for i in range(n):
    sub.setsockopt_string(zmq.SUBSCRIBE, "follow/bench0/player-%07u" % ((i * step) % players))
got = 0
stop = False
def done(*_):
    global stop
    stop = True
signal.signal(signal.SIGTERM, done)
while not stop:
    if sub.poll(100):
        sub.recv_multipart()
        got += 1
open(out, "w").write(str(got))
PY
}

IFS=, read -r -a counts <<<"0,$follows"
declare -A got msgs
for round in $(seq "$rounds"); do
  for f in "${counts[@]}"; do
    start_lbd "f$f-$round" --fsync=none --snapshot-every-events=0 --snapshot-every-s=0
    "$bench" ingest "${lbd_eps[@]}" --players="$players" --preload --seconds=1 --warmup-ms=0 \
      --clients=2 --batch=100 --json >/dev/null || fail "the preload failed; the service's log: $lbd_log"
    fpid=
    if [ "$f" -gt 0 ]; then
      follower "$lbd_updates" "$f" "$tmp/count" "$players" &
      fpid=$!; pids+=("$fpid")
      sleep 1 # the subscriptions reach the service, and every first state goes out
    fi
    v=$("$bench" ingest "${lbd_eps[@]}" --players="$players" --seconds="$seconds" --clients=2 \
      --batch=100 --json | jq '.runs[0].throughput | round') || fail "lb-bench failed ($f follows); the service's log: $lbd_log"
    m=0
    if [ -n "$fpid" ]; then
      stop "$fpid"
      m=$(calc "printf \"%.0f\", $(cat "$tmp/count") / ($seconds + 2)")
    fi
    stop "$lbd_pid"
    rm -rf "$lbd_data"
    got[$f]+="$v "
    msgs[$f]+="$m "
    say "round $round/$rounds, $f follows: $(group "$v") events/s, about $(group "$m") follow/ messages/s"
  done
done

table() {
  echo "| follows | ingest events/s | ÷ no follows | follow/ messages/s |"
  echo "|---|---|---|---|"
  base=$(echo "${got[0]}" | tr ' ' '\n' | grep . | median)
  for f in "${counts[@]}"; do
    v=$(echo "${got[$f]}" | tr ' ' '\n' | grep . | median)
    m=$(echo "${msgs[$f]}" | tr ' ' '\n' | grep . | median)
    echo "| $f | $(group "$v") | $(calc "printf \"%.2f\", $v / $base") | $(group "$m") |"
  done
  echo
  echo "Medians of $rounds alternating rounds of ${seconds} s, ingest into one board of $(group "$players") players, \`--fsync=none\`; \`bash bench/follow.sh\` on $(nproc) cores, $(date -u +%Y-%m-%d)."
}
table | tee ${out:+"$out"}
