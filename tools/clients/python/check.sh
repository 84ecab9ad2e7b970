#!/usr/bin/env bash
# What CI runs for the Python client: a venv on Debian's python3-zmq,
# python3-msgpack and python3-pytest (no PyPI; python3-venv, and python3-pip,
# python3-setuptools and python3-wheel to build the package), the package
# installed from this folder as a user would, then its tests and the
# README's examples against the real leaderboardd. Prints one line; exits
# non-zero on failure.
#
# Binaries: $LEADERBOARDD and $LB_REPLAY, else those of $BUILD_DIR
# (default: build/ at the repository's root).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=$(realpath -m "${BUILD_DIR:-$root/build}") # absolute: the tests run from elsewhere
binary() { # meson puts a tool at tools/NAME or tools/NAME/NAME
  if [ -f "$build/tools/$1" ]; then echo "$build/tools/$1"; else echo "$build/tools/$1/$1"; fi
}
export LEADERBOARDD=${LEADERBOARDD:-$(binary leaderboardd)}
export LB_REPLAY=${LB_REPLAY:-$(binary lb-replay)}
for b in "$LEADERBOARDD" "$LB_REPLAY"; do
  [ -x "$b" ] || { echo "python client: FAILED: no $b (build it, or set LEADERBOARDD / LB_REPLAY)"; exit 1; }
done

python=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ left in the repository
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log
fail() { cat "$log"; echo "python client: FAILED: $1"; exit 1; }

# A copy, so that pip's in-tree build leaves nothing in the repository.
mkdir "$work/src"
cp -r "$here/pyproject.toml" "$here/README.md" "$here/lbd" "$work/src/"
"$python" -m venv --system-site-packages "$work/venv" >"$log" 2>&1 || fail "venv (python3-venv installed?)"
"$work/venv/bin/pip" install -q --no-build-isolation --no-deps "$work/src" >>"$log" 2>&1 \
  || fail "pip install"
"$work/venv/bin/python" -c 'import lbd, zmq, msgpack, pytest' >>"$log" 2>&1 \
  || fail "imports (python3-zmq, python3-msgpack, python3-pytest installed?)"

# From an empty folder, so that `import lbd` finds the installed package,
# and its pytest plugin comes from the entry point, not from the source tree.
cd "$work"
if timeout 110 "$work/venv/bin/python" -m pytest -q -p no:cacheprovider -rfE \
    "$here/tests" "$here/examples" >"$log" 2>&1; then
  echo "python client: $(tail -n 1 "$log" | tr -d '=' | sed 's/^ *//;s/ *$//')"
else
  code=$?
  [ "$code" -eq 124 ] && fail "pytest took over 110 s"
  fail "$(tail -n 1 "$log" | tr -d '=' | sed 's/^ *//;s/ *$//')"
fi
