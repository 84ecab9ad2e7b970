#!/usr/bin/env bash
# One board at scale: loads --players players on ONE board of a throwaway
# leaderboardd through its ingest socket (lb-bench ingest --preload: 2 PUSH
# clients, batches of 100) and writes a markdown report to bench/SCALE.md:
#
#   load       load time and rate (events/s until a read shows every entry),
#              RSS before and once it settles, bytes per entry (RSS growth /
#              entries); the same for a board of --small players
#   reads      rank, top and around p50/p99 at --players against --small
#              (lb-bench requests, open loop at --rate from 2 clients)
#   snapshot   the snapshot a clean stop writes: its time (from the service's
#              log) and size, and the stop's wall time
#   restart    a start on the same data folder: the service's recovery time,
#              and the wall time until it answers ping, a read with every
#              entry, and stats
#   submit     p99 of submits (open loop at --rate) with no snapshot, and
#              with snapshots written back to back (--snapshot-every-events=1)
#
#   bash bench/scale.sh [--players=N] [--small=M] [--out=FILE] [--build=DIR]
#                       [--rate=R] [--seconds=S] [--fsync=POLICY]
#                       [--bytes-per-entry=B] [--force]
#
#   --players=N   players on the big board (default 100,000,000; at most
#                 100,000,000, lb-bench's limit)
#   --small=M     players on the small board to compare with (default
#                 1,000,000; below N)
#   --out=FILE    the report (default bench/SCALE.md)
#   --build=DIR   the release build with the programs (default build)
#   --rate=R      requests/s of every latency run (default 2000)
#   --seconds=S   measured seconds of every latency run (default 3), after
#                 0.5 s of warm-up
#   --fsync=P     leaderboardd's --fsync for every instance (default group)
#   --bytes-per-entry=B
#                 the memory estimate checked before anything starts
#                 (default 200): N x B + 1 GiB must be below MemAvailable.
#                 After the small board, N x its measured bytes per entry
#                 must fit as well
#   --force       start even when the estimates say N players will not fit
#
# Player ids are lb-bench's player-NNNNNNN: 14 bytes below 10,000,000
# players, 15 from there on. The data folders go to a temporary folder
# (under $TMPDIR if set), which needs about 250 bytes per player. Needs a
# release build and jq. 100M players take tens of minutes and most of a
# 24 GiB machine; numbers are noisy when other work shares the cores (the
# report gives the load average).
set -euo pipefail
caller=$PWD
cd "$(dirname "$0")/.."

script=bench/scale.sh
players=100000000
small=1000000
out=bench/SCALE.md
build=build
rate=2000
secs=3
fsync=group
bpe_guess=200
force=no

source bench/args.sh
for arg in "$@"; do
  case $arg in
    --players=*) players=${arg#*=} ;;
    --small=*) small=${arg#*=} ;;
    --out=*) out=$(abs_path "${arg#*=}") ;;
    --build=*) build=$(abs_path "${arg#*=}") ;;
    --rate=*) rate=${arg#*=} ;;
    --seconds=*) secs=${arg#*=} ;;
    --fsync=*) fsync=${arg#*=} ;;
    --bytes-per-entry=*) bpe_guess=${arg#*=} ;;
    --force) force=yes ;;
    -h|--help) sed -n '2,48p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage_error "unknown argument '$arg'" ;;
  esac
done
# Whole numbers; 100,000,000 and 100_000_000 are fine too.
whole() { # name, value, min, max
  local v=${2//[,_]/}
  if ! [[ $v =~ ^[0-9]{1,12}$ ]] || [ "$v" -lt "$3" ] || [ "$v" -gt "$4" ]; then
    usage_error "--$1 must be a whole number from $3 to $4, got '$2'"
  fi
  echo "$v"
}
players=$(whole players "$players" 1000 100000000)
small=$(whole small "$small" 100 100000000)
rate=$(whole rate "$rate" 1 1000000)
secs=$(whole seconds "$secs" 1 3600)
bpe_guess=$(whole bytes-per-entry "$bpe_guess" 1 100000)
[ "$small" -lt "$players" ] || usage_error "--small ($small) must be below --players ($players)"
case $fsync in group|always|none) ;; *) usage_error "--fsync must be group, always or none, got '$fsync'" ;; esac
[ -d "$(dirname "$out")" ] || usage_error "--out: the folder $(dirname "$out") does not exist"

needs_redis=no
# shellcheck source=bench/lib.sh
source bench/lib.sh

# shellcheck source=bench/measure.sh
source bench/measure.sh

# -- memory and disk, before anything starts ---------------------------------------
margin=$((1 << 30))
avail=$(mem_available)
need=$((players * bpe_guess + margin))
data_fs=$(stat -f -c %T "$tmp")
disk_need=$((players * 250))
if [ "$data_fs" = tmpfs ]; then
  need=$((need + disk_need)) # the data folder lives in memory too
else
  disk_avail=$(df -P -B1 "$tmp" | awk 'NR == 2 { print $4 }')
  if [ "$disk_avail" -lt "$disk_need" ] && [ "$force" = no ]; then
    fail "the data folder needs about $(gib "$disk_need") GiB for $players players (event log and snapshots) and $tmp has $(gib "$disk_avail") GiB free; set TMPDIR to a bigger disk or pass --force"
  fi
fi
if [ "$need" -gt "$avail" ]; then
  msg="$players players need about $(gib "$need") GiB ($bpe_guess bytes per entry + 1 GiB$([ "$data_fs" = tmpfs ] && echo " + the data folder on tmpfs")) and $(gib "$avail") GiB are available (MemAvailable)"
  [ "$force" = yes ] || fail "$msg; use fewer --players, or --force to try anyway (the kernel may then kill leaderboardd or other processes)"
  say "warning: $msg; going on because of --force"
fi
say "memory: $(gib "$avail") GiB available, about $(gib "$need") GiB needed at $bpe_guess bytes per entry"

load_start=$(loadavg)
load_flags=(--fsync="$fsync" --snapshot-every-events=0 --snapshot-every-s=0)
lat_flags=(--clients=2 --rate="$rate" --seconds="$secs" --warmup-ms=500 --json --quiet)

# Entries on board bench0 (0 before it exists), from an exact `boards` read:
# it reflects every event the service applied before the read arrived.
board_total() {
  "$lbctl" --endpoint="$lbd_ep" --timeout-ms=600000 --json boards |
    jq '[.boards[] | select(.board == "bench0") | .total] | add // 0'
}

# load NAME SIZE: fills bench0 with SIZE players through ingest; sets
# load_s, load_rate, rss_before, rss_after, bpe.
load() {
  local name=$1 size=$2
  rss_before=$(rss_of "$lbd_pid")
  local t0; t0=$(now)
  "$bench" ingest "${lbd_eps[@]}" --preload --players="$size" --clients=2 --seconds=0.1 \
    --json --quiet >"$tmp/load-$name.json" 2>"$tmp/load-$name.err" &
  local lb=$! lb_rc="" total=0 said; pids+=("$lb")
  said=$(now)
  while :; do
    total=$(board_total) || fail "leaderboardd stopped answering during the load; its log: $lbd_log"
    [ "$total" -ge "$size" ] && break
    if [ -z "$lb_rc" ] && ! kill -0 "$lb" 2>/dev/null; then
      lb_rc=0; wait "$lb" || lb_rc=$?
      [ "$lb_rc" = 0 ] || fail "lb-bench failed during the load: $(cat "$tmp/load-$name.err")"
    fi
    if [ "$(mem_available)" -lt $((512 << 20)) ]; then
      stop "$lb"; stop "$lbd_pid"
      fail "stopped the load at $total of $size entries: less than 512 MiB of memory left (RSS of leaderboardd $(mb "$(rss_of "$lbd_pid" 2>/dev/null || echo 0)") MB)"
    fi
    if [ "$(calc "print ($(now) - $said >= 5)")" = 1 ]; then
      say "load: $(group "$total") of $(group "$size") entries after $(since "$t0") s, RSS $(mb "$(rss_of "$lbd_pid")") MB"
      said=$(now)
    fi
    sleep 0.2
  done
  load_s=$(since "$t0")
  load_rate=$(calc "printf \"%.0f\", $size / $load_s")
  say "load: $(group "$size") entries in $load_s s ($(group "$load_rate") events/s)"
  # lb-bench waits for its own 0.1 s window of updates to be applied.
  if [ -z "$lb_rc" ]; then lb_rc=0; wait "$lb" || lb_rc=$?; fi
  [ "$lb_rc" = 0 ] ||
    say "warning: lb-bench ended with an error after the load was complete: $(cat "$tmp/load-$name.err")"
  local keep=(); for p in "${pids[@]}"; do [ "$p" != "$lb" ] && keep+=("$p"); done; pids=("${keep[@]}")
  # Settled: three samples 0.5 s apart within 1% of each other (at most 30 s).
  local prev=0 cur steady=0
  for _ in $(seq 60); do
    cur=$(rss_of "$lbd_pid")
    if [ "$(calc "print ($cur - $prev < $prev / 100 && $prev - $cur < $prev / 100)")" = 1 ]; then
      steady=$((steady + 1)); [ "$steady" -ge 2 ] && break
    else
      steady=0
    fi
    prev=$cur; sleep 0.5
  done
  rss_after=$cur
  bpe=$(calc "printf \"%.0f\", ($rss_after - $rss_before) / $size")
  say "load: RSS $(mb "$rss_before") MB before, $(mb "$rss_after") MB settled: $bpe bytes per entry"
}

# latency NAME SIZE MIX: one open-loop lb-bench requests run; its JSON goes to
# $tmp/lat-NAME.json, or the reason it failed to $tmp/lat-NAME.err.
latency() {
  local name=$1 size=$2 mix=$3
  say "latency: $mix on $(group "$size") players, $secs s at $rate/s"
  if "$bench" requests "${lbd_eps[@]}" --players="$size" --mix="$mix" "${lat_flags[@]}" \
      >"$tmp/lat-$name.json" 2>"$tmp/lat-$name.err"; then
    local errors; errors=$(jq '.runs[0].errors' "$tmp/lat-$name.json")
    [ "$errors" = 0 ] || failed_cell "$mix on $size players: $errors error replies"
  else
    rm -f "$tmp/lat-$name.json"
    failed_cell "$mix on $size players: $(tail -1 "$tmp/lat-$name.err")"
  fi
}
# q NAME FIELD: a latency field (p50, p99, p99.9, max) in us, or "failed".
q() {
  [ -f "$tmp/lat-$1.json" ] || { echo "failed"; return; }
  jq -r --arg f "$2" '.runs[0].latency_us[$f] | round' "$tmp/lat-$1.json"
}
peak_mb() {
  if [ -f "$tmp/lat-$1.json" ]; then mb "$(jq '.runs[0].rss_bytes' "$tmp/lat-$1.json")"; else echo "-"; fi
}
ratio() { # of two latencies: b / a
  if [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]]; then calc "printf \"%.2f\", $2 / ($1 > 0 ? $1 : 1)"; else echo "-"; fi
}

# -- the small board -------------------------------------------------------------
say "small: $(group "$small") players"
start_lbd small "${load_flags[@]}"
load small "$small"
small_load_s=$load_s small_rate=$load_rate small_rss0=$rss_before small_rss=$rss_after small_bpe=$bpe
for op in rank top around; do latency "small-$op" "$small" "$op=1"; done
stop "$lbd_pid"

# The small board's bytes per entry, projected to the big one.
avail=$(mem_available)
projected=$((players * (small_bpe > 0 ? small_bpe : 1) + margin))
if [ "$projected" -gt "$avail" ]; then
  msg="at $(group "$small") players each entry took $small_bpe bytes of RSS: $(group "$players") players would need about $(gib "$projected") GiB and $(gib "$avail") GiB are available"
  [ "$force" = yes ] || fail "$msg; use fewer --players, or --force to try anyway"
  say "warning: $msg; going on because of --force"
fi

# -- the big board ------------------------------------------------------------------
say "big: $(group "$players") players"
start_lbd big "${load_flags[@]}"
load big "$players"
big_load_s=$load_s big_rate=$load_rate big_rss0=$rss_before big_rss=$rss_after big_bpe=$bpe
for op in rank top around; do latency "big-$op" "$players" "$op=1"; done
latency big-submit "$players" submit=1

# One request's wall time through lbctl, in ms (the process start included).
req_ms() {
  local t0; t0=$(now)
  "$lbctl" --endpoint="$lbd_ep" --timeout-ms=600000 --json "$@" >"$tmp/req.json" || return 1
  calc "printf \"%.0f\\n\", ($(now) - $t0) * 1000"
}
ping_ms=$(req_ms ping) || fail "leaderboardd does not answer ping; its log: $lbd_log"
stats_ms=$(req_ms stats) || fail "leaderboardd does not answer stats; its log: $lbd_log"

say "snapshot: stopping, which writes one"
log_bytes=$(cat "$lbd_data"/events-*.log | wc -c)
t0=$(now)
stop "$lbd_pid"
stop_s=$(since "$t0")
snap_line=$(grep -E 'snapshot at seq [0-9]+ written to .* in [0-9]+ ms' "$lbd_log" | tail -1 || true)
if [ -n "$snap_line" ]; then
  snap_ms=$(sed -E 's/.* in ([0-9]+) ms.*/\1/' <<<"$snap_line")
  snap_file=$(sed -E 's/.* written to (.*) in [0-9]+ ms.*/\1/' <<<"$snap_line")
  snap_bytes=$(stat -c %s "$snap_file")
  say "snapshot: $snap_ms ms, $(mb "$snap_bytes") MB; the stop took $stop_s s"
else
  snap_ms=failed snap_bytes=0
  failed_cell "no snapshot on stop; the log ends with: $(tail -3 "$lbd_log")"
fi
mv "$lbd_log" "$tmp/lbd-big-first.log"

say "restart: on the same data folder, snapshots back to back from the first event on"
t0=$(now)
spawn_lbd big --fsync="$fsync" --snapshot-every-events=1 --snapshot-every-s=0
until "$lbctl" --endpoint="$lbd_ep" --timeout-ms=1000 ping >/dev/null 2>&1; do
  kill -0 "$lbd_pid" 2>/dev/null || fail "leaderboardd exited during the restart: $(tail -5 "$lbd_log")"
  [ "$(calc "print ($(now) - $t0 > 3600)")" = 0 ] || fail "leaderboardd did not answer within an hour of the restart; its log: $lbd_log"
done
restart_ping_s=$(since "$t0")
total=$(board_total) || fail "leaderboardd does not answer boards after the restart"
restart_full_s=$(since "$t0")
restart_rss=$(rss_of "$lbd_pid")
[ "$total" = "$players" ] || failed_cell "after the restart bench0 holds $total entries, not $players"
restart_stats_ms=$(req_ms stats) || fail "leaderboardd does not answer stats after the restart"
restart_entries=$(jq '.entries' "$tmp/req.json")
[ "$restart_entries" = "$players" ] || failed_cell "after the restart stats says $restart_entries entries, not $players"
recovered=$(grep -E 'recovered up to seq' "$lbd_log" | tail -1 | sed 's/^leaderboardd: //' || true)
recovery_ms=$(sed -nE 's/.* in ([0-9]+) ms$/\1/p' <<<"$recovered")
say "restart: ping after $restart_ping_s s, all $(group "$players") entries after $restart_full_s s, RSS $(mb "$restart_rss") MB ($recovered)"

# Samples whether a snapshot is being written (its .tmp exists) every 0.1 s.
(while :; do
   if compgen -G "$lbd_data/*.snap.tmp" >/dev/null; then echo 1; else echo 0; fi
   sleep 0.1
 done) >"$tmp/writing" &
sampler=$!; pids+=("$sampler")
snaps_before=$(grep -c 'snapshot at seq' "$lbd_log" || true)
latency big-submit-snap "$players" submit=1
stop "$sampler"
# Let the snapshot in progress (and the one the run's last events start)
# finish before counting: minutes at 100M entries.
t0=$(now) said=$(now)
while compgen -G "$lbd_data/*.snap.tmp" >/dev/null; do
  if [ "$(calc "print ($(now) - $t0 > 3600)")" = 1 ]; then
    failed_cell "a snapshot was still being written an hour after the submit run"; break
  fi
  if [ "$(calc "print ($(now) - $said >= 30)")" = 1 ]; then
    say "waiting for the snapshot being written to finish ($(since "$t0") s so far)"; said=$(now)
  fi
  sleep 0.1
done
snaps=$(( $(grep -c 'snapshot at seq' "$lbd_log" || true) - snaps_before ))
snap_mean_ms=$(grep -E 'snapshot at seq' "$lbd_log" | tail -n "$((snaps > 0 ? snaps : 1))" |
  sed -nE 's/.* in ([0-9]+) ms$/\1/p' | awk '{ s += $1; n++ } END { printf "%.0f", n ? s / n : 0 }')
coverage=$(awk '{ s += $1; n++ } END { printf "%.0f", n ? 100 * s / n : 0 }' "$tmp/writing")
say "submit during snapshots: $snaps snapshots (mean $snap_mean_ms ms), one being written ${coverage}% of the run"
[ "$snaps" -gt 0 ] || failed_cell "no snapshot was written during the submit run"
say "done; stopping leaderboardd"
stop "$lbd_pid"
load_end=$(loadavg)

# -- the report ----------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
id_bytes=$([ "$players" -le 10000000 ] && echo "14-byte" || echo "14- and 15-byte")
{
  echo "# Scale: one board of $(group "$players") players"
  echo
  echo "Written by \`bash bench/scale.sh --players=$players --small=$small --rate=$rate --seconds=$secs --fsync=$fsync\` on $(date -u +%Y-%m-%d) ($(nproc) cores, $cpu, Linux $(uname -r), $(gib "$(awk '/^MemTotal:/ { print $2 * 1024 }' /proc/meminfo)") GiB; client and server on the same machine; load average $load_start at the start, $load_end at the end: other work on the machine makes every figure slower and noisier)."
  echo
  echo "Throwaway \`leaderboardd --fsync=$fsync\` instances with their default shards and merge interval, one board (\`bench0\`) of $id_bytes player ids (lb-bench's \`player-NNNNNNN\`), loaded by \`lb-bench ingest --preload\` (2 PUSH clients, batches of 100), without snapshots while loading."
  echo
  echo "## Load and memory"
  echo
  echo "Load time: from the start of lb-bench until an exact \`boards\` read shows every entry. RSS: leaderboardd's VmRSS before the load and once it settles (three samples 0.5 s apart within 1%)."
  echo
  echo "| | $(group "$small") players | $(group "$players") players |"
  echo "|---|---|---|"
  echo "| load time s | $small_load_s | $big_load_s |"
  echo "| load rate events/s | $small_rate | $big_rate |"
  echo "| RSS before the load MB | $(mb "$small_rss0") | $(mb "$big_rss0") |"
  echo "| RSS after the load MB | $(mb "$small_rss") | $(mb "$big_rss") |"
  echo "| bytes per entry (RSS growth / entries) | $small_bpe | $big_bpe |"
  echo
  echo "## Reads: latency at $(group "$players") against $(group "$small") players"
  echo
  echo "lb-bench requests, open loop at $rate requests/s from 2 clients, $secs s after 0.5 s of warm-up, uniform players; latency from each request's intended send time. lb-bench sends \`rank\` with \`exact: false\` (the merged view) and \`top\` (10 entries) and \`around\` (radius 5) exact."
  echo
  echo "| op | p50 us at $(group "$small") | p99 us at $(group "$small") | p50 us at $(group "$players") | p99 us at $(group "$players") | p99 ratio |"
  echo "|---|---|---|---|---|---|"
  for op in rank top around; do
    echo "| $op | $(q "small-$op" p50) | $(q "small-$op" p99) | $(q "big-$op" p50) | $(q "big-$op" p99) | $(ratio "$(q "small-$op" p99)" "$(q "big-$op" p99)") |"
  done
  echo
  echo "## Snapshot and restart at $(group "$players") players"
  echo
  echo "The snapshot is the one a clean stop (SIGTERM) writes; its time is the service's own (\"snapshot at seq ... in N ms\"). The restart runs on the same data folder: its recovery time is the service's own (\"recovered up to seq ...\"); the wall times count from starting the process."
  echo
  echo "| measure | value |"
  echo "|---|---|"
  echo "| snapshot write ms | $snap_ms |"
  echo "| snapshot size MB (bytes per entry) | $(mb "$snap_bytes") ($(calc "printf \"%.1f\", $snap_bytes / $players")) |"
  echo "| event log before the stop MB | $(mb "$log_bytes") |"
  echo "| stop (SIGTERM to exit, snapshot included) s | $stop_s |"
  echo "| recovery ms (leaderboardd's log) | ${recovery_ms:-?} |"
  echo "| restart to the first ping s | $restart_ping_s |"
  echo "| restart to a read with all entries s | $restart_full_s |"
  echo "| RSS after the restart MB (bytes per entry over the empty start) | $(mb "$restart_rss") ($(calc "printf \"%.0f\", ($restart_rss - $big_rss0) / $players")) |"
  echo "| \`stats\` through lbctl, before / after the restart ms | $stats_ms / $restart_stats_ms |"
  echo "| \`ping\` through lbctl (its own start-up) ms | $ping_ms |"
  echo
  echo "Recovery: $recovered"
  echo
  echo "## Submit latency while a snapshot is written ($(group "$players") players)"
  echo
  echo "lb-bench requests, submits of random scores for existing players, open loop at $rate/s from 2 clients, $secs s after 0.5 s of warm-up, \`--fsync=$fsync\`. Without: the first instance (no snapshots). With: the restarted one with \`--snapshot-every-events=1\`, so that a snapshot starts at the first merge after the previous one ends; a snapshot's temporary file existed in ${coverage}% of 0.1 s samples over the run, and $snaps snapshots completed by the time the last one (started by the run's last events) ended, $snap_mean_ms ms each on average."
  echo
  echo "| | p50 us | p99 us | p99.9 us | max us | peak RSS MB |"
  echo "|---|---|---|---|---|---|"
  echo "| no snapshot | $(q big-submit p50) | $(q big-submit p99) | $(q big-submit p99.9) | $(q big-submit max) | $(peak_mb big-submit) |"
  echo "| snapshots back to back | $(q big-submit-snap p50) | $(q big-submit-snap p99) | $(q big-submit-snap p99.9) | $(q big-submit-snap max) | $(peak_mb big-submit-snap) |"
  if [ "$failures" -gt 0 ]; then
    echo
    echo "**$failures measurement(s) failed**; the script's stderr says which."
  fi
} >"$out"
say "wrote $out"
cat "$out"
[ "$failures" -eq 0 ]
