#!/bin/sh
# The C++ client library as a game server's build sees it: installs the
# build into a scratch root (DESTDIR), builds the examples against that
# installed copy with pkg-config alone, runs them against a throwaway
# leaderboardd on free loopback ports, and checks what they print.
#
#   tools/clients/cpp/check.sh BUILD_DIR
#
# Prints one line; exits non-zero on failure (the output that shows why goes
# to stderr).
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILD_DIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lbd-client-check.XXXXXX")
pid=

cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# One line on stdout; the output that shows why on stderr.
fail() {
  echo "lbd-client check: FAIL: $1"
  shift
  for f in "$@"; do
    [ -s "$f" ] && sed 's/^/  | /' "$f" >&2
  done
  exit 1
}

# The README shows publish.cpp as it is.
readme=$(cat "$here/../../../README.md")
[[ "$readme" == *'```cpp'$'\n'"$(cat "$here/example/publish.cpp")"$'\n''```'* ]] \
  || fail "README.md does not show tools/clients/cpp/example/publish.cpp as it is" /dev/null

DESTDIR="$tmp/root" meson install -C "$build" >"$tmp/install.log" 2>&1 \
  || fail "meson install" "$tmp/install.log"
pc=$(find "$tmp/root" -name lbd-client.pc | head -n 1)
[ -n "$pc" ] || fail "meson install put no lbd-client.pc in place"
[ -n "$(find "$tmp/root" -path '*/include/lbd/client.hpp')" ] \
  || fail "meson install put no lbd/client.hpp in place"

# The examples, copied out of the source tree, know the library only through
# pkg-config: the sysroot prefixes its -I and -L paths with the scratch root.
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$tmp/root"
mkdir "$tmp/example"
cp "$here/example/meson.build" "$here/example/game_server.cpp" "$here/example/publish.cpp" \
  "$here/example/seasons.cpp" "$tmp/example/"
{ meson setup "$tmp/example/build" "$tmp/example" && ninja -C "$tmp/example/build"; } \
  >"$tmp/example.log" 2>&1 \
  || fail "the examples do not build against the installed library" "$tmp/example.log"
LD_LIBRARY_PATH="$(pkg-config --libs-only-L lbd-client | sed 's/^ *-L//; s/ *$//')"
export LD_LIBRARY_PATH

daemon="$build/tools/leaderboardd"
[ -f "$daemon" ] || daemon="$build/tools/leaderboardd/leaderboardd"
[ -x "$daemon" ] || fail "no leaderboardd in $build/tools"

# Ports that were free a moment ago; a clash shows as a failed start.
set -- $(/usr/bin/python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))')
requests="tcp://127.0.0.1:$1" ingest="tcp://127.0.0.1:$2" updates="tcp://127.0.0.1:$3"
"$daemon" --requests="$requests" --ingest="$ingest" --updates="$updates" --data="$tmp/data" \
  --merge-interval-ms=20 >"$tmp/daemon.log" 2>&1 &
pid=$!

# Up once it answers lbctl's ping (tried every 100 ms, for 10 s at most).
up=
for _ in $(seq 100); do
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    pid=
    fail "leaderboardd exited at start" "$tmp/daemon.log"
  fi
  if "$build/tools/lbctl" --endpoint="$requests" --timeout-ms=100 ping >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 0.1
done
[ -n "$up" ] || fail "leaderboardd did not answer within 10 s" "$tmp/daemon.log"

"$tmp/example/build/publish" "$requests" >"$tmp/publish.out" 2>&1 \
  || fail "publish exited non-zero" "$tmp/publish.out"
[ "$(cat "$tmp/publish.out")" = "alice is #1 of 1 on arena" ] \
  || fail "publish printed something else" "$tmp/publish.out"

"$tmp/example/build/game_server" "$requests" "$updates" >"$tmp/game.out" 2>&1 \
  || fail "game_server exited non-zero" "$tmp/game.out"
out="$tmp/game.out"
grep -qx 'submitted 48 results: 48 accepted, 0 refused' "$out" \
  || fail "game_server's submits did not all land" "$out"
grep -q '^top 10 of 13 (seq [0-9]*): 1=alice:1200 2=' "$out" \
  || fail "game_server's top 10 is not the board" "$out"
rank=$(sed -n 's/^rank player-3: \([0-9]*\) of 13, score \([0-9]*\)$/\1 \2/p' "$out")
[ -n "$rank" ] || fail "game_server printed no rank for player-3" "$out"
followed=$(sed -n 's/^follow player-3: rank \([0-9]*\) of 13, score \([0-9]*\) (.*)$/\1 \2/p' "$out")
[ "$followed" = "$rank" ] \
  || fail "game_server's follow/ message disagrees with rank ($rank)" "$out"

# Seasons: a closed season read back after a reset with archive, its
# season/ message, seasons, and percentile (fixed scores: p0..p4 = 0..400).
"$tmp/example/build/seasons" "$requests" "$updates" >"$tmp/seasons.out" 2>&1 \
  || fail "seasons exited non-zero" "$tmp/seasons.out"
out="$tmp/seasons.out"
for line in 'configured cup: schedule 0 0 \* \* 1, keep 3' \
  'submitted 5: p4 is #1 of 5, percentile 80' 'rank p2: 3 of 5, percentile 40' \
  'reset cup with archive: closed season 1 (5 entries, seq [0-9]*)' \
  'season/cup/ season 1: 5 entries, seq [0-9]*\.\.[0-9]*, top 1=p4:400 2=p3:300 3=p2:200 4=p1:100 5=p0:0' \
  'seasons of cup: current 2, next rollover scheduled, 1(closed, 5 entries) 2(current, 0 entries)' \
  'season 1 top 3 (seq [0-9]*): 1=p4:400 2=p3:300 3=p2:200' \
  'season 1 rank p2: 3 of 5, percentile 40'; do
  grep -qx "$line" "$out" || fail "seasons printed no line matching '$line'" "$out"
done

echo "lbd-client check: ok (installed library, header and pkg-config; publish, game_server and" \
  "seasons ran)"
