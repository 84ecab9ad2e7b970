// lb-bench: load generator for leaderboardd and its baselines (issue 5).
// Runs one workload against one or more targets back to back and reports
// throughput, latency percentiles and the target's CPU and memory; with more
// than one target, the ratios of the first to each other. The work lives in
// tools/lb-bench/: workload, histogram, targets, run, report.
//
// Exit codes: 0 ok, 1 a target failed (unreachable, stopped answering), 2 a
// bad command line.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tools/common/flags.hpp"
#include "tools/common/numbers.hpp"
#include "tools/lb-bench/report.hpp"
#include "tools/lb-bench/run.hpp"
#include "tools/lb-bench/targets.hpp"

namespace {

using namespace lb::bench;

const char* usage = R"(usage: lb-bench [options] TARGET...
       lb-bench echo-server [--bind=EP]

Runs the same workload against each TARGET in turn and prints throughput,
latency (p50/p90/p99/p99.9/max) and the target's CPU and RSS. With several
targets it also prints the ratios of the first to each other one: the
machines are noisy, so quote ratios from one run, not absolute numbers.

targets:
  requests   leaderboardd's requests socket (--requests): DEALER clients
  ingest     leaderboardd's ingest socket (--ingest): PUSH batches of
             --batch submits, fire-and-forget; throughput counts events the
             service has applied (its stats seq), latency is not measured
  redis      a Redis server (--redis): a submit is ZADD GT + ZREVRANK in one
             round trip (a Lua script), rank ZREVRANK, top ZREVRANGE 0 9
  echo       the transport ceiling (--echo): `lb-bench echo-server`, which
             decodes each frame as the service does and answers at once

  echo-server  runs the echo ceiling on --bind (default tcp://127.0.0.1:7499)
             until Ctrl-C

load (every target gets the same):
  --clients=C         connections, one thread each (default 8)
  --depth=D           closed loop: requests in flight per connection (default 32)
  --rate=R            open loop instead: R requests/s in total (ingest: events/s),
                      latency measured from each request's intended send time
  --batch=B           ingest: submits per frame (default 100)
  --seconds=S         measured seconds (default 5)
  --warmup-ms=N       unmeasured warm-up before them (default 1000)
  --preload           submit every player once first (so rank/around find them;
                      ingest: in batches); with --requests-pid it prints the
                      RSS growth per entry it caused

workload:
  --boards=N          boards (default 1)
  --players=N         players per board (default 100000)
  --zipf=S            pick players Zipf(S)-distributed (hot players); default 0,
                      uniform
  --mix=OPS           op weights, e.g. submit=70,rank=20,top=5,around=5
                      (default submit=100)
  --scores=DIST       uniform (0..--score-max) or exp (mostly low, a long tail)
  --score-max=N       default 1000000
  --seed=N            default 1; the same seed gives the same requests

endpoints and processes:
  --requests=EP       default tcp://127.0.0.1:7400
  --ingest=EP         default tcp://127.0.0.1:7401 (stats go to --requests)
  --redis=EP          default tcp://127.0.0.1:6379
  --echo=EP           default tcp://127.0.0.1:7499
  --requests-pid=PID  leaderboardd's process: CPU and RSS of requests and ingest runs
  --redis-pid=PID, --echo-pid=PID   the same for the other targets

output:
  --json              one JSON document on stdout instead of the table
  --quiet             no progress line on stderr

example:
  lb-bench requests redis echo --seconds=5 --requests-pid=$(pidof leaderboardd)
)";

} // namespace

int main(int argc, char** argv) {
  workload_options w;
  uint64_t clients = 8, depth = 32, rate = 0, batch = 100, warmup_ms = 1000;
  uint64_t requests_pid = 0, redis_pid = 0, echo_pid = 0;
  std::string zipf = "0", mix = "submit=100", requests = "tcp://127.0.0.1:7400",
              ingest = "tcp://127.0.0.1:7401", redis = "tcp://127.0.0.1:6379",
              echo = "tcp://127.0.0.1:7499", bind = "tcp://127.0.0.1:7499", seconds_text;
  bool json = false, quiet = false, preload = false;

  lb::tools::flag_parser flags("lb-bench", usage);
  flags.add("clients", clients, 1, 1024);
  flags.add("depth", depth, 1, 100000);
  flags.add("rate", rate, 0, 100000000);
  flags.add("batch", batch, 1, 1000);
  flags.add("seconds", seconds_text);
  flags.add("warmup-ms", warmup_ms, 0, 600000);
  flags.add_switch("preload", preload);
  flags.add("boards", w.boards, 1, 100000);
  flags.add("players", w.players, 1, 100000000);
  flags.add("zipf", zipf);
  flags.add("mix", mix);
  flags.add("scores", w.scores);
  flags.add("score-max", w.score_max, 1, uint64_t{1} << 62);
  flags.add("seed", w.seed, 0, UINT64_MAX);
  flags.add("requests", requests);
  flags.add("ingest", ingest);
  flags.add("redis", redis);
  flags.add("echo", echo);
  flags.add("bind", bind);
  flags.add("requests-pid", requests_pid, 1, 1u << 30);
  flags.add("redis-pid", redis_pid, 1, 1u << 30);
  flags.add("echo-pid", echo_pid, 1, 1u << 30);
  flags.add_switch("json", json);
  flags.add_switch("quiet", quiet);
  if (auto code = flags.parse(argc, argv))
    return *code;

  auto bad = [](const std::string& msg) {
    std::cerr << "lb-bench: " << msg << "\n(see lb-bench --help)\n";
    return 2;
  };
  const auto& pos = flags.positional();
  if (pos.empty())
    return bad("name at least one target: requests, ingest, redis or echo");
  if (pos[0] == "echo-server") {
    if (pos.size() > 1)
      return bad("echo-server takes no arguments, only --bind=EP");
    return run_echo_server(bind);
  }
  double secs = 5;
  if (!seconds_text.empty()) {
    auto x = lb::tools::parse_real(seconds_text);
    if (!x || !(*x > 0) || *x > 86400)
      return bad("--seconds "
                 + lb::tools::expects("a number of seconds above 0 (e.g. 5 or 0.5)", seconds_text));
    secs = *x;
  }
  if (auto x = lb::tools::parse_real(zipf); x && *x >= 0 && *x <= 10)
    w.zipf = *x;
  else
    return bad("--zipf "
               + lb::tools::expects("a number from 0 to 10 (0: uniform; 0.99 is typical)", zipf));
  if (auto err = parse_mix(mix, w); !err.empty())
    return bad(err);
  if (w.scores != "uniform" && w.scores != "exp")
    return bad("--scores expects uniform or exp, got '" + w.scores + "'");
  if (w.players > UINT32_MAX || w.boards > UINT32_MAX)
    return bad("--players and --boards must fit in 32 bits");

  std::vector<run_options> plan;
  for (const auto& name : pos) {
    auto t = parse_target(name);
    if (!t)
      return bad("unknown target '" + name + "' (requests, ingest, redis, echo)");
    run_options o;
    o.target = *t;
    o.clients = clients, o.depth = depth, o.rate = rate, o.batch = batch;
    o.seconds = secs;
    o.warmup_seconds = warmup_ms / 1000.0;
    o.preload = preload;
    o.progress = !quiet;
    switch (*t) {
      case target_kind::requests:
        o.endpoint = requests, o.pid = requests_pid;
        break;
      case target_kind::ingest:
        o.endpoint = ingest, o.stats_endpoint = requests, o.pid = requests_pid;
        break;
      case target_kind::redis:
        o.endpoint = redis, o.pid = redis_pid;
        break;
      case target_kind::echo:
        o.endpoint = echo, o.pid = echo_pid;
        break;
    }
    if (*t != target_kind::ingest && (w.w_rank + w.w_around > 0) && !preload && !quiet)
      std::cerr << "lb-bench: note: rank and around of players not yet submitted are errors "
                   "(not_found); --preload avoids that\n";
    plan.push_back(o);
  }

  auto shared = std::make_shared<const workload>(w);
  std::vector<run_result> results;
  for (const auto& o : plan) {
    try {
      results.push_back(run(o, shared));
    } catch (const std::exception& e) {
      std::cerr << "lb-bench: " << target_name(o.target) << " at " << o.endpoint << ": " << e.what()
                << '\n';
      return 1;
    }
  }
  report_setup s{w, clients, depth, rate, batch};
  if (json)
    print_json(std::cout, s, results);
  else
    print_table(std::cout, s, results);
  return 0;
}
