#!/usr/bin/env bash
# Installs the Debian 12 packages lbd needs. `--test` adds what the test
# suites and bench/run.sh need (clang for the fuzzer, clang-format for the
# style check, cmake to build CAF for ThreadSanitizer, redis-server and jq for
# the benchmark baseline and its script, Python's zmq, msgpack and pytest for the
# Python client's tests; the Node check fetches what it needs itself). `--bench`
# adds linux-perf to those, for bench/profile.sh.
# Idempotent: installs only what is missing; runs as root or through sudo.
set -euo pipefail

pkgs=(g++ pkg-config meson ninja-build libcaf-dev cppzmq-dev libzmq3-dev
      libmsgpack-cxx-dev libxxhash-dev libabsl-dev libmimalloc-dev libhiredis-dev doctest-dev)
# The Python client's tests (tools/clients/python/check.sh) run in a venv that
# sees these; nothing comes from PyPI.
python=(python3-zmq python3-msgpack python3-pytest python3-venv python3-pip python3-setuptools python3-wheel)
case "${1:-}" in
  --test) pkgs+=(clang clang-format libclang-rt-14-dev cmake dpkg-dev redis-server jq "${python[@]}") ;;
  --bench) pkgs+=(clang clang-format libclang-rt-14-dev cmake dpkg-dev redis-server jq "${python[@]}" linux-perf) ;;
  "") ;;
  *) echo "install-deps: unknown argument '$1' (use --test, --bench or nothing)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo
echo "install-deps: installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "install-deps: apt-get install failed for: ${missing[*]}" >&2; exit 1; }
