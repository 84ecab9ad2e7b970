#!/usr/bin/env bash
# CI check of the Node example: installs the locked npm packages, starts a
# throwaway leaderboardd on free loopback ports, runs example.js against it and
# checks what it printed. Prints one line; exits non-zero on any failure.
#   tools/clients/node/check.sh [path/to/leaderboardd]   (default build/tools/leaderboardd)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
daemon=$(realpath -m "${1:-$root/build/tools/leaderboardd}")
work=$(mktemp -d)
pid=
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT

# The registry unreachable (no route, no DNS, or a TLS proxy whose authority
# this machine lacks, as in a bare debootstrap root) is not a failure of the
# example: exit 77, which run-all.sh reports as skipped, with the reason.
unreachable='ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|CERT|certificate|fetch failed'
skip() {
  echo "node client check: SKIPPED: the npm registry is unreachable from here ($*)"
  exit 77
}

fail() {
  for f in apt.log npm.log example.out service.log; do
    if [ -s "$work/$f" ]; then echo "--- $f" >&2 && tail -n 20 "$work/$f" >&2; fi
  done
  echo "node client check: FAILED: $*"
  exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

[ -x "$daemon" ] || fail "no leaderboardd at $daemon (build it, or pass its path)"

# Debian 12's nodejs has no npm, and Debian's npm package brings ~390 small
# packages (1.5 to 13 minutes on a fresh root). npm is itself an npm package
# with its dependencies bundled, so without one: Debian's nodejs (13 packages),
# then npm's tarball from the registry, checked against its published sha512.
npm_version=10.8.2
npm_integrity=sha512-x/AIjFIKRllrhcb48dqUNAAZl0ig9+qMuN91RpZo3Cb2+zuibfh+KISl6+kVVyktDz230JKc208UkQwwMqyB+w==
npm=(npm)
if ! command -v npm >/dev/null; then
  if ! command -v node >/dev/null; then
    [ "$(id -u)" = 0 ] || fail "needs node >= 18 and npm (apt-get install nodejs npm)"
    { apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs ca-certificates; } \
      >"$work/apt.log" 2>&1 || fail "apt-get install nodejs: $(tail -n 3 "$work/apt.log")"
  fi
  cache=${LBD_CACHE:-$HOME/.cache/lbd}/npm-$npm_version
  if [ ! -f "$cache/bin/npm-cli.js" ]; then
    mkdir -p "$cache"
    node -e '
      const [url, want, out] = process.argv.slice(1);
      fetch(url).then(async (r) => {
        if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
        const body = Buffer.from(await r.arrayBuffer());
        const got = "sha512-" + require("crypto").createHash("sha512").update(body).digest("base64");
        if (got !== want) throw new Error(`${url}: sha512 ${got}, expected ${want}`);
        require("fs").writeFileSync(out, body);
      }).catch((e) => { console.error(e.cause ? `${e.message}: ${e.cause.message || e.cause}` : e.message); process.exit(1); });' \
      "https://registry.npmjs.org/npm/-/npm-$npm_version.tgz" "$npm_integrity" "$work/npm.tgz" \
      2>"$work/npm.log" || { grep -Eq "$unreachable" "$work/npm.log" && skip "$(tail -n 1 "$work/npm.log")"; } ||
      fail "could not fetch npm $npm_version from the registry: $(tail -n 1 "$work/npm.log")"
    tar -xzf "$work/npm.tgz" -C "$cache" --strip-components=1
  fi
  npm=(node "$cache/bin/npm-cli.js")
fi
# The lockfile pins zeromq 6.8.0, whose package carries its prebuilt addons, so
# this needs the npm registry only: no compiler, no other download.
t=$(now)
if ! (cd "$here" && "${npm[@]}" ci --no-audit --no-fund) >"$work/npm.log" 2>&1; then
  grep -Eq "$unreachable" "$work/npm.log" && skip "$(grep -Em1 "$unreachable" "$work/npm.log")"
  fail "npm ci"
fi
npm_time=$(since "$t")

# Port * lets the service pick free ports; --ready-file says which, once it answers.
"$daemon" --requests='tcp://127.0.0.1:*' --ingest='tcp://127.0.0.1:*' \
  --updates='tcp://127.0.0.1:*' --data="$work/data" --fsync=none \
  --ready-file="$work/ready.json" 2>"$work/service.log" &
pid=$!
for _ in $(seq 200); do
  [ -s "$work/ready.json" ] && break
  kill -0 "$pid" 2>/dev/null || fail "leaderboardd exited before it was ready"
  sleep 0.05
done
[ -s "$work/ready.json" ] || fail "leaderboardd wrote no --ready-file within 10 s"
endpoint() { node -p "require('$work/ready.json').$1"; }

t=$(now)
(cd "$here" && timeout 60 node example.js --requests="$(endpoint requests)" \
  --updates="$(endpoint updates)" --board=ci-node) >"$work/example.out" 2>&1 ||
  fail "example.js exited with status $?"
example_time=$(since "$t")

# Every line is checked; the top is known because the scores are (i * 7919) % 100003.
expect() { grep -Eq "$1" "$work/example.out" || fail "example.js printed no line matching /$1/"; }
expect '^submitted 1000 scores to ci-node in [0-9]+ ms, every reply matched by id'
expect '^top 5 of 1000 at seq [0-9]+: 1\. player-985 99984, 2\. player-543 99891, '
expect '^top/ci-node/ at seq [0-9]+.*, 1001 entries: 1\. node-newcomer [0-9]+, 2\. player-985 99984'
expect '^reset ci-node with archive: closed season 1 \(1001 entries, seq [0-9]+\)$'
expect '^season/ci-node/ season 1, seq [0-9]+\.\.[0-9]+, 1001 entries: 1\. node-newcomer [0-9]+, 2\. player-985 99984, '
expect '^seasons of ci-node: current 2, 1 \(closed, 1001 entries\), 2 \(current, 0 entries\)$'
expect '^season 1 top 3 at seq [0-9]+: 1\. node-newcomer [0-9]+, 2\. player-985 99984, 3\. player-543 99891; player-985 was #2 of 1001, percentile 99\.80$'

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
[ "$status" = 0 ] || fail "leaderboardd exited with status $status on SIGTERM"

echo "node client check: ok (node $(node --version), npm ci $npm_time, example $example_time:" \
  "1000 pipelined submits, top, a top/ message, a closed season and its season/ message)"
