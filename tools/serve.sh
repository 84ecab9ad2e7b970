#!/usr/bin/env bash
# Sets up and starts the service with its defaults (or the flags you pass):
# installs the Debian packages, builds the release binaries, runs leaderboardd
# in the foreground. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
if [ ! -d build/meson-private ]; then
  meson setup build --buildtype=release >/dev/null
fi
ninja -C build tools/leaderboardd tools/lbctl tools/lb-replay >/dev/null
echo "serve: built build/tools/{leaderboardd,lbctl,lb-replay}; try build/tools/lbctl ping in another terminal" >&2
exec ./build/tools/leaderboardd "$@"
