#!/usr/bin/env bash
# `meson install --destdir` into a throwaway folder: the programs land in
# bindir and run, the example systemd unit lands in lib/systemd/system and
# starts the installed daemon. Usage: check_install.sh BUILD_DIR PREFIX BINDIR
# (BINDIR absolute, as meson's prefix / bindir gives it).
set -euo pipefail
build=$1 prefix=$2 bindir=$3
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
fail() { echo "check_install: $*" >&2; exit 1; }

meson install -C "$build" --no-rebuild --destdir "$dest" --quiet \
  || fail "meson install --destdir failed (it installs what is built: build everything first, ninja -C $build)"

for prog in leaderboardd lbctl lb-replay lb-bench; do
  exe="$dest$bindir/$prog"
  [ -x "$exe" ] || fail "$prog is not in $bindir"
  "$exe" --help >/dev/null || fail "the installed $prog --help fails"
done

unit="$dest$prefix/lib/systemd/system/leaderboardd.service"
[ -f "$unit" ] || fail "no leaderboardd.service in $prefix/lib/systemd/system"
grep -qx "ExecStart=$bindir/leaderboardd --data=%S/leaderboardd \\\\" "$unit" \
  || fail "the unit's ExecStart does not start $bindir/leaderboardd: $(grep ExecStart= "$unit")"
for line in 'User=leaderboardd' 'StateDirectory=leaderboardd' 'Restart=on-failure' \
            'StandardError=journal'; do
  grep -qx "$line" "$unit" || fail "the unit lacks $line"
done
grep -q '^LimitNOFILE=[0-9]' "$unit" || fail "the unit lacks LimitNOFILE"
if command -v systemd-analyze >/dev/null 2>&1; then
  # A copy that starts the staged binary, which verify wants to exist; any
  # line it prints is a problem with the unit.
  mkdir "$dest/verify"
  sed "s|^ExecStart=$bindir/|ExecStart=$dest$bindir/|" "$unit" >"$dest/verify/leaderboardd.service"
  out=$(systemd-analyze verify "$dest/verify/leaderboardd.service" 2>&1 || true)
  [ -z "$out" ] || fail "systemd-analyze verify: $out"
fi
echo "check_install: bindir and lib/systemd/system hold what they should"
