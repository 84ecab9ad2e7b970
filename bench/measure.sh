# Shared by bench/scale.sh and bench/boards.sh, sourced after bench/lib.sh:
# progress lines, failures that end the run or only mark a cell, clocks,
# units, and what /proc says about memory and load.
started=$SECONDS
say() { printf '%s: [%4ds] %s\n' "$script" $((SECONDS - started)) "$*" >&2; }
fail() { say "$*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
calc() { awk "BEGIN { $1 }"; } # calc 'printf "%.1f", 3 / 2'
mb() { calc "printf \"%.0f\", $1 / 1048576"; }
gib() { calc "printf \"%.1f\", $1 / 1073741824"; }
group() { printf "%'d" "$1" 2>/dev/null || echo "$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }
rss_of() { awk '/^VmRSS:/ { printf "%.0f\n", $2 * 1024 }' "/proc/$1/status"; }
mem_available() {
  local b; b=$(awk '/^MemAvailable:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo)
  [[ $b =~ ^[0-9]+$ ]] || fail "cannot read MemAvailable from /proc/meminfo"
  echo "$b"
}
loadavg() { cut -d' ' -f1 /proc/loadavg; }
# A measurement that failed: counted (the exit code), shown in the report.
failures=0
failed_cell() { failures=$((failures + 1)); say "FAILED: $*"; }
# Drops a process that has ended from the ones cleanup stops.
forget() { local keep=(); for p in "${pids[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done; pids=("${keep[@]}"); }
