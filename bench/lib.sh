# Shared by the bench scripts: tool checks, throwaway processes on free
# loopback ports, and their cleanup. Source it after setting `script` (the
# script's name, for messages), and optionally `build` (the build folder the
# programs come from, default build) and `needs_redis=no` (a script that
# never starts redis-server).
#
# After sourcing: $tmp (removed on exit), $daemon, $bench, $lbctl, and
#   start_lbd NAME FLAGS...   starts leaderboardd on $tmp/data-NAME (kept
#                             between two starts of the same NAME) and waits
#                             until it answers; sets lbd_pid, lbd_ep (its
#                             requests endpoint), lbd_ingest, lbd_updates, lbd_data,
#                             lbd_log and lbd_eps (the lb-bench flags that
#                             reach it); with lbd_keys set (an array of
#                             lbctl's CURVE flags) it pings with them
#   spawn_lbd NAME FLAGS...   the same without waiting
#   start_redis NAME FLAGS... starts redis-server; sets redis_pid, redis_ep
#   stop PID                  stops one of them

build=${build:-build}
daemon=$build/tools/leaderboardd
bench=$build/tools/lb-bench
lbctl=$build/tools/lbctl
for f in "$daemon" "$bench" "$lbctl"; do
  [ -x "$f" ] || { echo "$script: $f is missing: build first (meson setup $build --buildtype=release && ninja -C $build)" >&2; exit 1; }
done
needed=(jq)
[ "${needs_redis:-yes}" = no ] || needed+=(redis-server redis-cli)
for cmd in "${needed[@]}"; do
  command -v "$cmd" >/dev/null || { echo "$script: $cmd is not installed: run bash tools/install-deps.sh --test" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
# Stops every process the script started, on any exit and on Ctrl-C.
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "$script: interrupted" >&2; exit 130' INT TERM

# A loopback port nobody listens on now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

stop() { # pid
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  local keep=(); for p in "${pids[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done; pids=("${keep[@]}")
}

wait_for() { # description, command...
  local what=$1; shift
  for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$script: $what did not come up within 10 s; its log is in $tmp" >&2
  exit 1
}

spawn_lbd() { # name, leaderboardd flags...
  local name=$1; shift
  local lport iport uport
  lport=$(free_port); iport=$(free_port); uport=$(free_port)
  lbd_data="$tmp/data-$name"
  lbd_log="$tmp/lbd-$name.log"
  mkdir -p "$lbd_data"
  "$daemon" --requests="tcp://127.0.0.1:$lport" --ingest="tcp://127.0.0.1:$iport" \
    --updates="tcp://127.0.0.1:$uport" --data="$lbd_data" "$@" >"$lbd_log" 2>&1 &
  lbd_pid=$!; pids+=("$lbd_pid")
  lbd_ep="tcp://127.0.0.1:$lport"
  lbd_ingest="tcp://127.0.0.1:$iport"
  lbd_updates="tcp://127.0.0.1:$uport"
  lbd_eps=(--requests="$lbd_ep" --ingest="$lbd_ingest" --requests-pid="$lbd_pid")
}

start_lbd() { # name, leaderboardd flags...
  spawn_lbd "$@"
  # lbd_keys: lbctl's --curve-server-key/--curve-key for a service with keys.
  wait_for "leaderboardd" "$lbctl" --endpoint="$lbd_ep" --timeout-ms=200 ${lbd_keys[@]+"${lbd_keys[@]}"} ping
}

start_redis() { # name, redis-server flags...
  local name=$1; shift
  local rport
  rport=$(free_port)
  mkdir -p "$tmp/redis-$name"
  redis-server --port "$rport" --bind 127.0.0.1 --dir "$tmp/redis-$name" --save '' "$@" \
    >"$tmp/redis-$name.log" 2>&1 &
  redis_pid=$!; pids+=("$redis_pid")
  redis_ep="tcp://127.0.0.1:$rport"
  wait_for "redis-server" redis-cli -p "$rport" ping
}
