#!/usr/bin/env bash
# Builds CAF 0.17.6 (libcaf_core only) with ThreadSanitizer from Debian's own
# source package and prints the install prefix.
#
# Why: Debian's libcaf_core is not instrumented, so TSan cannot see the
# happens-before edges of CAF's mailboxes and reports every message handoff
# as a race. Instrumenting the library makes TSan exact for our actors.
# The build (about 7 minutes on 2 cores) is cached under $LBD_CACHE.
set -euo pipefail
cache=${LBD_CACHE:-$HOME/.cache/lbd}
prefix=$cache/caf-0.17.6-tsan
if [ -f "$prefix/lib/libcaf_core.so" ]; then
  echo "$prefix"
  exit 0
fi
mkdir -p "$cache/src"
cd "$cache/src"
if ! ls actor-framework_0.17.6.orig.tar.gz >/dev/null 2>&1; then
  # deb-src lines, if the machine has none, for Debian's own package archive.
  if ! apt-get indextargets 2>/dev/null | grep -q 'Created-By: Sources'; then
    uri=$(grep -rh '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -m1 debian || true)
    uri=${uri:-http://deb.debian.org/debian}
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$uri" > /etc/apt/sources.list.d/lbd-debsrc.sources
    apt-get update -qq >&2
  fi
  # Only the upstream tarball is needed (apt checks it against the signed
  # .dsc); a missing Debian patch tarball on the mirror does not matter here.
  apt-get source --download-only actor-framework=0.17.6-2.1 >&2 2>&1 || true
  if ! ls actor-framework_0.17.6.orig.tar.gz >/dev/null 2>&1; then
    echo "build-caf-tsan: could not fetch Debian's actor-framework 0.17.6 source package" >&2
    exit 1
  fi
fi
rm -rf actor-framework-0.17.6
tar xzf actor-framework_0.17.6.orig.tar.gz
mkdir -p actor-framework-0.17.6/build
cd actor-framework-0.17.6/build
echo "build-caf-tsan: building libcaf_core with -fsanitize=thread (cached afterwards)" >&2
CXXFLAGS="-fsanitize=thread -O1" LDFLAGS=-fsanitize=thread \
  cmake .. -G Ninja -DCMAKE_INSTALL_PREFIX="$prefix" -DCAF_NO_IO=yes -DCAF_NO_OPENSSL=yes \
  -DCAF_NO_OPENCL=yes -DCAF_NO_PYTHON=yes -DCAF_NO_TOOLS=yes -DCAF_NO_EXAMPLES=yes \
  -DCAF_NO_UNIT_TESTS=yes -DCAF_NO_MEM_MANAGEMENT=yes -DCAF_NO_SUMMARY=yes >cmake.log 2>&1 \
  || { tail -20 cmake.log >&2; exit 1; }
ninja -j"$(nproc)" >ninja.log 2>&1 || { tail -30 ninja.log >&2; exit 1; }
ninja install >/dev/null
echo "$prefix"
