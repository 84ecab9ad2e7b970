// lb-bench: load generator for leaderboardd and its baselines. Runs one
// workload against one or more targets back to back and reports throughput,
// latency percentiles and the target's CPU and memory; with more than one
// target, the ratios of the first to each other. The work lives beside this
// file: options, workload, histogram, targets, run, report.
//
// Exit codes: 0 ok, 1 a target failed (unreachable, stopped answering), 2 a
// bad command line.
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "tools/lb-bench/options.hpp"
#include "tools/lb-bench/report.hpp"
#include "tools/lb-bench/run.hpp"
#include "tools/lb-bench/targets.hpp"

namespace {

using namespace lb::bench;

// One run per target, each with the shared load and its own socket and
// process.
std::vector<run_options> plan_runs(const options& o) {
  std::vector<run_options> plan;
  for (const auto t : o.targets) {
    run_options r = o.load;
    r.target = t;
    switch (t) {
      case target_kind::requests:
        r.endpoint = o.requests, r.pid = o.requests_pid;
        break;
      case target_kind::ingest:
        r.endpoint = o.ingest, r.stats_endpoint = o.requests, r.pid = o.requests_pid;
        break;
      case target_kind::redis:
        r.endpoint = o.redis, r.pid = o.redis_pid, r.keys = {};
        break;
      case target_kind::echo:
        r.endpoint = o.echo, r.pid = o.echo_pid, r.keys = {}; // echo-server has no CURVE
        break;
    }
    const auto& w = o.workload;
    if (t != target_kind::ingest && (w.w_rank + w.w_around > 0) && !r.preload && !o.quiet)
      std::cerr << "lb-bench: note: rank and around of players not yet submitted are errors "
                   "(not_found); --preload avoids that\n";
    plan.push_back(r);
  }
  return plan;
}

// Runs the plan in order; nothing if a target failed (with the reason
// printed), since ratios to a missing run would mislead.
std::optional<std::vector<run_result>> run_all(const std::vector<run_options>& plan,
                                               const workload_options& w) {
  auto shared = std::make_shared<const workload>(w);
  std::vector<run_result> results;
  for (const auto& r : plan) {
    try {
      results.push_back(run(r, shared));
    } catch (const std::exception& e) {
      std::cerr << "lb-bench: " << target_name(r.target) << " at " << r.endpoint << ": " << e.what()
                << '\n';
      return std::nullopt;
    }
  }
  return results;
}

void report(const options& o, const std::vector<run_result>& results) {
  const report_setup s{o.workload, o.load.clients, o.load.depth, o.load.rate, o.load.batch};
  if (o.json)
    print_json(std::cout, s, results);
  else
    print_table(std::cout, s, results);
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (auto code = parse_options(argc, argv, o))
    return *code;
  if (o.echo_server)
    return run_echo_server(o.bind);
  const auto results = run_all(plan_runs(o), o.workload);
  if (!results)
    return 1;
  report(o, *results);
  return 0;
}
