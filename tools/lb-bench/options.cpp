#include "tools/lb-bench/options.hpp"

#include <cstdint>
#include <iostream>

#include "tools/common/flags.hpp"

namespace lb::bench {

namespace {

const char* intro = R"(usage: lb-bench [options] TARGET...
       lb-bench echo-server [--bind=EP]

Runs the same workload against each TARGET in turn and prints throughput,
latency (p50/p90/p99/p99.9/max) and, given its pid, the target's CPU (cores, and
cores per 100k ops/s), context switches per op and RSS. With several
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

  echo-server  runs the echo ceiling on --bind until Ctrl-C

)";

const char* outro = R"(
example:
  lb-bench requests redis echo --seconds=5 --requests-pid=$(pidof leaderboardd)
)";

std::vector<tools::flag_group> flag_table(options& o, std::string& mix) {
  using namespace tools;
  auto& load = o.load;
  auto& w = o.workload;
  const int max_pid = 1 << 30;
  return {
    {"load (every target gets the same):",
     {
       whole_flag("clients", "C", "connections, one thread each", load.clients, 1, 1024),
       whole_flag("depth", "D", "closed loop: requests in flight per connection", load.depth, 1,
                  100000),
       whole_flag("rate", "R",
                  "open loop instead: R requests/s in total (ingest: events/s), latency measured "
                  "from each request's intended send time",
                  load.rate, 0, 100000000)
         .default_is(""),
       whole_flag("batch", "B", "ingest: submits per frame", load.batch, 1, 1000),
       real_flag(
         "seconds", "S", "measured seconds", load.seconds,
         [](double x) { return x > 0 && x <= 86400; },
         "a number of seconds above 0 (e.g. 5 or 0.5)"),
       whole_flag("warmup-ms", "N", "unmeasured warm-up before them", load.warmup, 0, 600000),
       switch_flag("preload",
                   "submit every player once first (so rank/around find them; ingest: in "
                   "batches); with --requests-pid it prints the RSS growth per entry it caused",
                   load.preload),
     }},
    {"workload:",
     {
       whole_flag("boards", "N", "boards", w.boards, 1, 100000),
       whole_flag("players", "N", "players per board", w.players, 1, 100000000),
       real_flag(
         "zipf", "S", "pick players Zipf(S)-distributed (hot players); 0: uniform", w.zipf,
         [](double x) { return x >= 0 && x <= 10; },
         "a number from 0 to 10 (0: uniform; 0.99 is typical)"),
       text_flag("mix", "OPS", "op weights, e.g. submit=70,rank=20,top=5,around=5", mix),
       choice_flag("scores", "DIST", "uniform (0..--score-max) or exp (mostly low, a long tail)",
                   w.scores, {"uniform", "exp"}),
       whole_flag("score-max", "N", "the highest score", w.score_max, 1, uint64_t{1} << 62),
       whole_flag("seed", "N", "the same seed gives the same requests", w.seed, 0, UINT64_MAX),
     }},
    {"endpoints and processes:",
     {
       text_flag("requests", "EP", "leaderboardd's requests socket", o.requests),
       text_flag("ingest", "EP", "leaderboardd's ingest socket (stats go to --requests)", o.ingest),
       text_flag("redis", "EP", "the Redis server", o.redis),
       text_flag("echo", "EP", "the echo ceiling", o.echo),
       text_flag("bind", "EP", "echo-server: where it listens", o.bind),
       text_flag("curve-server-key", "KEY|FILE",
                 "requests, ingest: leaderboardd's CURVE public key (40 Z85 characters) or a "
                 "file holding it, for a service started with --curve-secret; alone, lb-bench "
                 "makes a throwaway key pair (admitted only with --readers=any)",
                 o.curve_server_key),
       text_flag("curve-key", "FILE",
                 "requests, ingest: this client's CURVE secret key file (`lbctl keygen NAME` "
                 "writes NAME.key), listed as a writer by the service; redis and echo stay plain",
                 o.curve_key),
       whole_flag(
         "requests-pid", "PID",
         "leaderboardd's process: CPU, context switches and RSS of requests and ingest runs",
         o.requests_pid, 1, max_pid)
         .default_is(""),
       whole_flag("redis-pid", "PID", "the same for redis", o.redis_pid, 1, max_pid).default_is(""),
       whole_flag("echo-pid", "PID", "the same for echo", o.echo_pid, 1, max_pid).default_is(""),
     }},
    {"output:",
     {
       switch_flag("json", "one JSON document on stdout instead of the table", o.json),
       switch_flag("quiet", "no progress line on stderr", o.quiet),
       help_flag(),
     }},
  };
}

} // namespace

std::optional<int> parse_options(int argc, char** argv, options& o) {
  // --mix is kept as text until the command line is known good, then parsed
  // into the workload's weights; its default is theirs.
  std::string mix = mix_text(o.workload);
  tools::flag_parser flags("lb-bench", intro, flag_table(o, mix), outro);
  if (auto code = flags.parse(argc, argv))
    return code;
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
    o.echo_server = true;
    return std::nullopt;
  }
  if (auto err = parse_mix(mix, o.workload); !err.empty())
    return bad(err);
  try {
    o.load.keys = transport::load_client_keys(o.curve_server_key, o.curve_key);
  } catch (const transport::key_error& e) {
    return bad(e.what());
  }
  for (const auto& name : pos) {
    auto t = parse_target(name);
    if (!t)
      return bad("unknown target '" + name + "' (requests, ingest, redis, echo)");
    o.targets.push_back(*t);
  }
  o.load.progress = !o.quiet;
  return std::nullopt;
}

} // namespace lb::bench
