#!/usr/bin/env bash
# Many small boards: loads --boards boards of one entry each into a throwaway
# leaderboardd through its ingest socket and writes a markdown report to
# bench/BOARDS.md:
#
#   load      load time and rate, RSS before and once it settles, bytes per
#             board (RSS growth / boards), the slowest merge during the load
#   stats     the wall time of a `stats` request (through lbctl, next to a
#             `ping` for lbctl's own start-up)
#   boards    the `boards` reply: with paging (a probe with `limit` gets at
#             most that many boards back) one page of 1000 and the walk
#             through every page; without, the one reply. Sizes are the
#             msgpack frames' bytes, computed from lbctl --json
#   merge     while one board (bench1) gets --steady-rate submits a second:
#             the merges' duration (stats `merges`: sampled `last_us` once a
#             second, and `max_us`) and merges per second; meanwhile the
#             p50, p99 and maximum latency of submits on another board
#             (bench0: lb-bench requests, open loop at --rate)
#
#   bash bench/boards.sh [--boards=N] [--out=FILE] [--build=DIR]
#                        [--steady-s=S] [--steady-rate=R] [--rate=R]
#                        [--fsync=POLICY] [--bytes-per-board=B] [--force]
#
#   --boards=N    boards, one entry each (default 1,000,000)
#   --out=FILE    the report (default bench/BOARDS.md)
#   --build=DIR   the release build with the programs (default build)
#   --steady-s=S  seconds of the steady submits (default 15: at 20 merges a
#                 second, stats' max_us then covers only them)
#   --steady-rate=R  submits/s on the steady board (default 1000)
#   --rate=R      submits/s of the latency probe on the other board
#                 (default 500)
#   --fsync=P     leaderboardd's --fsync (default group)
#   --bytes-per-board=B  the memory estimate checked first (default 2000):
#                 N x B + 1 GiB must be below MemAvailable
#   --force       start even when the estimate says N boards will not fit
#
# The boards are bench0..bench<N-1>, each with player-0000000 (the names
# lb-bench uses, so that its probe adds no entry). lb-bench cannot load them
# (it takes at most 100,000 boards and picks them at random), so
# bench/zmtp-push.pl sends them: a ZeroMQ PUSH written in Perl. Needs a
# release build, jq and perl.
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

script=bench/boards.sh
boards=1000000
out=bench/BOARDS.md
build=build
steady_s=15
steady_rate=1000
rate=500
fsync=group
bpb_guess=2000
force=no

source bench/args.sh
for arg in "$@"; do
  case $arg in
    --boards=*) boards=${arg#*=} ;;
    --out=*) out=$(abs_path "${arg#*=}") ;;
    --build=*) build=$(abs_path "${arg#*=}") ;;
    --steady-s=*) steady_s=${arg#*=} ;;
    --steady-rate=*) steady_rate=${arg#*=} ;;
    --rate=*) rate=${arg#*=} ;;
    --fsync=*) fsync=${arg#*=} ;;
    --bytes-per-board=*) bpb_guess=${arg#*=} ;;
    --force) force=yes ;;
    -h|--help) sed -n '2,42p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$arg'" ;;
  esac
done
whole() { # name, value, min, max; 1,000,000 and 1_000_000 are fine too
  local v=${2//[,_]/}
  if ! [[ $v =~ ^[0-9]{1,12}$ ]] || [ "$v" -lt "$3" ] || [ "$v" -gt "$4" ]; then
    usage_error "--$1 must be a whole number from $3 to $4, got '$2'"
  fi
  echo "$v"
}
boards=$(whole boards "$boards" 2 100000000)
steady_s=$(whole steady-s "$steady_s" 3 3600)
steady_rate=$(whole steady-rate "$steady_rate" 1 100000)
rate=$(whole rate "$rate" 1 100000)
bpb_guess=$(whole bytes-per-board "$bpb_guess" 1 1000000)
case $fsync in group|always|none) ;; *) usage_error "--fsync must be group, always or none, got '$fsync'" ;; esac
[ -d "$(dirname "$out")" ] || usage_error "--out: the folder $(dirname "$out") does not exist"
command -v perl >/dev/null || { echo "$script: perl is not installed (apt-get install perl)" >&2; exit 1; }
perl -MTime::HiRes -e 1 2>/dev/null ||
  { echo "$script: perl lacks Time::HiRes (apt-get install perl)" >&2; exit 1; }

needs_redis=no
# shellcheck source=bench/lib.sh
source bench/lib.sh

# shellcheck source=bench/measure.sh
source bench/measure.sh

avail=$(mem_available)
need=$((boards * bpb_guess + (1 << 30)))
if [ "$need" -gt "$avail" ]; then
  msg="$boards boards need about $(gib "$need") GiB ($bpb_guess bytes per board + 1 GiB) and $(gib "$avail") GiB are available (MemAvailable)"
  [ "$force" = yes ] || fail "$msg; use fewer --boards, or --force to try anyway"
  say "warning: $msg; going on because of --force"
fi
say "memory: $(gib "$avail") GiB available, about $(gib "$need") GiB needed at $bpb_guess bytes per board"
load_start=$(loadavg)

# A request through lbctl; its JSON reply in $tmp/req.json, its wall time in
# ms on stdout (lbctl's start-up included).
req_ms() {
  local t0; t0=$(now)
  "$lbctl" --endpoint="$lbd_ep" --timeout-ms=600000 --json "$@" >"$tmp/req.json" 2>"$tmp/req.err" || return 1
  calc "printf \"%.0f\\n\", ($(now) - $t0) * 1000"
}
stats() { "$lbctl" --endpoint="$lbd_ep" --timeout-ms=600000 --json stats; }
# The msgpack size of a JSON value, as the service encodes it (msgpack-c
# picks the smallest form of every int, str, map and array header; replies
# hold no floats or bin). lbctl --json prints every key of the frame.
# shellcheck disable=SC2016 # jq, not shell
mp_size='
  def hdr: if . < 16 then 1 elif . < 65536 then 3 else 5 end;
  def str_size: utf8bytelength as $n
    | $n + (if $n < 32 then 1 elif $n < 256 then 2 elif $n < 65536 then 3 else 5 end);
  def size:
    if type == "object" then (length | hdr) + ([to_entries[] | (.key | str_size) + (.value | size)] | add // 0)
    elif type == "array" then (length | hdr) + (map(size) | add // 0)
    elif type == "string" then str_size
    elif type == "number" then
      if . >= 0 then (if . < 128 then 1 elif . < 256 then 2 elif . < 65536 then 3 elif . < 4294967296 then 5 else 9 end)
      else (if . >= -32 then 1 elif . >= -128 then 2 elif . >= -32768 then 3 elif . >= -2147483648 then 5 else 9 end) end
    else 1 end;'

# -- load ---------------------------------------------------------------------------
start_lbd boards --fsync="$fsync" --snapshot-every-events=0 --snapshot-every-s=0
rss_before=$(rss_of "$lbd_pid")
seq0=$(stats | jq '.seq')
say "load: $boards boards of one entry through the ingest socket"
t0=$(now)
perl bench/zmtp-push.pl load --to="$lbd_ingest" --boards="$boards" >"$tmp/push.out" 2>"$tmp/push.err" &
push=$!; pids+=("$push")
push_rc=""
said=$(now)
while :; do
  s=$(stats) || fail "leaderboardd stopped answering during the load; its log: $lbd_log"
  applied=$(($(jq '.seq' <<<"$s") - seq0))
  [ "$applied" -ge "$boards" ] && break
  [ "$(jq '.ingest_rejected' <<<"$s")" = 0 ] || fail "the service rejected ingest items: $(jq -c '{ingest_events, ingest_rejected}' <<<"$s")"
  if [ -z "$push_rc" ] && ! kill -0 "$push" 2>/dev/null; then
    push_rc=0; wait "$push" || push_rc=$?
    [ "$push_rc" = 0 ] || fail "bench/zmtp-push.pl failed: $(cat "$tmp/push.err")"
  fi
  if [ "$(mem_available)" -lt $((512 << 20)) ]; then
    stop "$push"; stop "$lbd_pid"
    fail "stopped the load at $applied of $boards boards: less than 512 MiB of memory left"
  fi
  if [ "$(calc "print ($(now) - $said >= 5)")" = 1 ]; then
    say "load: $applied of $boards boards after $(since "$t0") s, RSS $(mb "$(rss_of "$lbd_pid")") MB"
    said=$(now)
  fi
  sleep 0.2
done
load_s=$(since "$t0")
load_rate=$(calc "printf \"%.0f\", $boards / $load_s")
if [ -z "$push_rc" ]; then push_rc=0; wait "$push" || push_rc=$?; fi
[ "$push_rc" = 0 ] || failed_cell "bench/zmtp-push.pl: $(cat "$tmp/push.err")"
forget "$push"
got_boards=$(jq '.boards' <<<"$s")
[ "$got_boards" = "$boards" ] || failed_cell "stats counts $got_boards boards, not $boards"
load_merge_us=$(jq '.merges.max_us' <<<"$s")
say "load: $boards boards in $load_s s ($load_rate events/s); slowest merge $load_merge_us us"
prev=0
for _ in $(seq 60); do # settled: two samples 0.5 s apart within 1%
  cur=$(rss_of "$lbd_pid")
  [ "$(calc "print ($cur - $prev < $prev / 100 && $prev - $cur < $prev / 100)")" = 1 ] && break
  prev=$cur; sleep 0.5
done
rss_after=$cur
bpb=$(calc "printf \"%.0f\", ($rss_after - $rss_before) / $boards")
say "load: RSS $(mb "$rss_before") MB before, $(mb "$rss_after") MB settled: $bpb bytes per board"

# -- stats and boards -------------------------------------------------------------------
ping_ms=$(for _ in 1 2 3 4 5; do req_ms ping; done | median)
stats_all=$(for _ in 1 2 3 4 5; do req_ms stats; done)
stats_ms=$(median <<<"$stats_all")
stats_max=$(sort -n <<<"$stats_all" | tail -1)
say "stats: $stats_ms ms (median of 5, slowest $stats_max ms); ping $ping_ms ms"

# Paging is there when a probe with `limit` gets at most that many boards back
# (a service without it ignores the key, or lbctl refuses the flag).
if req_ms boards --limit=10 >/dev/null && [ "$(jq '.boards | length' "$tmp/req.json")" -le 10 ]; then
  paged=yes
  page_ms=$(req_ms boards --limit=1000) || fail "boards --limit=1000: $(cat "$tmp/req.err")"
  page_bytes=$(jq "$mp_size size" "$tmp/req.json")
  page_len=$(jq '.boards | length' "$tmp/req.json")
  merged_page_ms=$(req_ms boards --limit=1000 --merged) || fail "boards --merged: $(cat "$tmp/req.err")"
  say "boards: paged; a page of $page_len boards is $page_bytes bytes, $page_ms ms exact, $merged_page_ms ms merged"
  # The walk reads the merged view: an exact page passes over every board
  # name on every shard (docs/PROTOCOL-CHOICES.md, "Paging").
  # The walk: lbctl --all if it has it (one process, each page as it comes),
  # else one lbctl per page after the last page's `next`.
  t0=$(now)
  if "$lbctl" --endpoint="$lbd_ep" --timeout-ms=600000 --json boards --all --limit=1000 --merged \
      >"$tmp/walk.json" 2>"$tmp/walk.err"; then
    walk_how="lbctl boards --all"
  else
    walk_how="one lbctl boards --after=NEXT per page"
    : >"$tmp/walk.json"
    after=()
    while :; do
      "$lbctl" --endpoint="$lbd_ep" --timeout-ms=600000 --json boards --limit=1000 --merged "${after[@]}" \
        >"$tmp/page.json" || fail "boards ${after[*]}: the walk failed"
      cat "$tmp/page.json" >>"$tmp/walk.json"
      next=$(jq -r '.next // empty' "$tmp/page.json")
      [ -n "$next" ] || break
      after=(--after="$next")
    done
  fi
  walk_s=$(since "$t0")
  walk_pages=$(wc -l <"$tmp/walk.json")
  walk_boards=$(jq -s 'map(.boards | length) | add' "$tmp/walk.json")
  walk_bytes=$(jq -s "$mp_size map(size) | add" "$tmp/walk.json")
  [ "$walk_boards" = "$boards" ] || failed_cell "the walk through the pages listed $walk_boards boards, not $boards"
  say "boards: the walk ($walk_how) took $walk_s s: $walk_pages pages, $walk_boards boards, $walk_bytes bytes"
else
  paged=no
  say "boards: no paging (the probe with limit got every board, or lbctl refused --limit); one reply"
  page_ms=$(req_ms boards) || failed_cell "boards: $(cat "$tmp/req.err")"
  page_bytes=$(jq "$mp_size size" "$tmp/req.json")
  page_len=$(jq '.boards | length' "$tmp/req.json")
  say "boards: one reply of $page_len boards, $page_bytes bytes, $page_ms ms"
fi

# -- merges under steady submits, and a probe on another board ---------------------------
say "merge: $steady_rate submits/s on bench1 for $steady_s s; latency probe on bench0 at $rate/s"
m0=$(stats | jq '.merges.count')
t0=$(now)
perl bench/zmtp-push.pl steady --to="$lbd_ingest" --board=bench1 --rate="$steady_rate" \
  --seconds="$steady_s" >"$tmp/steady.out" 2>"$tmp/steady.err" &
steady=$!; pids+=("$steady")
# One stats a second: the last merge's duration, as a sample.
(sleep 1; while kill -0 "$steady" 2>/dev/null; do stats | jq '.merges.last_us'; sleep 1; done) \
  >"$tmp/merge-samples" 2>/dev/null &
sampler=$!; pids+=("$sampler")
sleep 0.5
probe_s=$((steady_s > 3 ? steady_s - 2 : 1))
if ! "$bench" requests "${lbd_eps[@]}" --boards=1 --players=1 --mix=submit=1 --clients=1 \
    --rate="$rate" --seconds="$probe_s" --warmup-ms=500 --json --quiet \
    >"$tmp/probe.json" 2>"$tmp/probe.err"; then
  rm -f "$tmp/probe.json"
  failed_cell "the latency probe: $(tail -1 "$tmp/probe.err")"
fi
steady_rc=0; wait "$steady" || steady_rc=$?
steady_elapsed=$(since "$t0")
[ "$steady_rc" = 0 ] || failed_cell "bench/zmtp-push.pl steady: $(cat "$tmp/steady.err")"
steady_sent=$(cat "$tmp/steady.out" 2>/dev/null || echo 0)
wait "$sampler" 2>/dev/null || true
forget "$steady"; forget "$sampler"
sleep 0.2 # the last merge
s=$(stats)
merges=$(($(jq '.merges.count' <<<"$s") - m0))
merges_per_s=$(calc "printf \"%.1f\", $merges / $steady_elapsed")
merge_last=$(jq '.merges.last_us' <<<"$s")
merge_max=$(jq '.merges.max_us' <<<"$s")
merge_median=$(median <"$tmp/merge-samples")
merge_samples=$(wc -l <"$tmp/merge-samples")
merge_sampled_max=$(sort -n "$tmp/merge-samples" | tail -1)
max_note=""
[ "$merges" -ge 256 ] || max_note=" (only $merges merges in the run: max_us also covers merges before it, the load's included)"
[ "$(jq '.ingest_rejected' <<<"$s")" = 0 ] || failed_cell "the service rejected ingest items: $(jq -c '{ingest_events, ingest_rejected}' <<<"$s")"
say "merge: $merges merges ($merges_per_s/s), sampled median ${merge_median} us, max_us $merge_max$max_note"
pq() { # a probe latency field in us
  if [ -f "$tmp/probe.json" ]; then jq -r --arg f "$1" '.runs[0].latency_us[$f] | round' "$tmp/probe.json"; else echo failed; fi
}
probe_errors=-
[ -f "$tmp/probe.json" ] && probe_errors=$(jq '.runs[0].errors' "$tmp/probe.json")
[ "$probe_errors" = 0 ] || [ "$probe_errors" = "-" ] || failed_cell "the latency probe got $probe_errors error replies"
say "probe: submit on bench0 p50 $(pq p50) us, p99 $(pq p99) us, max $(pq max) us"
say "done; stopping leaderboardd"
stop "$lbd_pid"
load_end=$(loadavg)

# -- the report ---------------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
{
  echo "# Boards: $boards boards of one entry"
  echo
  echo "Written by \`bash bench/boards.sh --boards=$boards --steady-s=$steady_s --steady-rate=$steady_rate --rate=$rate --fsync=$fsync\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $cpu, Linux $(uname -r); client and server on the same machine; load average $load_start at the start, $load_end at the end: other work on the machine makes every figure slower and noisier)."
  echo
  echo "A throwaway \`leaderboardd --fsync=$fsync\` with its default shards and merge interval and no snapshots; boards \`bench0\`..\`bench$((boards - 1))\`, each with one entry (\`player-0000000\`), sent to the ingest socket in batches of 1000 by \`bench/zmtp-push.pl\`."
  echo
  echo "## Load and memory"
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| load time s (until stats' seq shows every event) | $load_s |"
  echo "| load rate events/s | $load_rate |"
  echo "| RSS before / after the load MB | $(mb "$rss_before") / $(mb "$rss_after") |"
  echo "| bytes per board (RSS growth / boards) | $bpb |"
  echo "| slowest merge during the load us (stats \`merges.max_us\`) | $load_merge_us |"
  echo
  echo "## Requests that see every board"
  echo
  echo "Wall times through lbctl, whose own start-up is in each (a \`ping\` shows how much). Sizes are the reply frames' msgpack bytes."
  echo
  echo "| request | value |"
  echo "|---|---|"
  echo "| \`ping\` ms (median of 5) | $ping_ms |"
  echo "| \`stats\` ms (median / slowest of 5) | $stats_ms / $stats_max |"
  if [ "$paged" = yes ]; then
    echo "| \`boards\` paged: one page of $page_len boards, bytes | $page_bytes |"
    echo "| \`boards\` paged: one page ms, exact / merged view | $page_ms / $merged_page_ms |"
    echo "| \`boards\` walk through every page ($walk_how): pages / boards / bytes | $walk_pages / $walk_boards / $walk_bytes |"
    echo "| \`boards\` walk s | $walk_s |"
  else
    echo "| \`boards\` (no paging: one reply of $page_len boards), bytes | $page_bytes |"
    echo "| \`boards\` ms | $page_ms |"
  fi
  echo
  echo "## Merges with one changed board, and submit latency on another"
  echo
  echo "bench/zmtp-push.pl sends $steady_rate single submits a second to \`bench1\` (each a higher score, so each changes the entry) for $steady_s s ($steady_sent sent); from 0.5 s in, \`lb-bench requests\` submits to \`bench0\` (one client, open loop at $rate/s, $probe_s s after 0.5 s of warm-up), so each merge has one or two changed boards among $boards. Merge durations are stats' \`merges\` (from the merge's tick to its view): \`last_us\` sampled once a second, and \`max_us\`, the slowest of the last 256 merges, read after the run$max_note."
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| merges / merges per second (20 at the 50 ms interval) | $merges / $merges_per_s |"
  echo "| merge us: sampled median / sampled max ($merge_samples samples) | $merge_median / $merge_sampled_max |"
  echo "| merge us: last / max_us | $merge_last / $merge_max |"
  echo "| submit on bench0: p50 / p99 / max us | $(pq p50) / $(pq p99) / $(pq max) |"
  echo "| submit on bench0: p99.9 us, errors | $(pq p99.9), $probe_errors |"
  if [ "$failures" -gt 0 ]; then
    echo
    echo "**$failures measurement(s) failed**; the script's stderr says which."
  fi
} >"$out"
say "wrote $out"
cat "$out"
[ "$failures" -eq 0 ]
