// One lb-bench run against one target: client threads, warm-up, the measured
// window, the service's CPU and memory, and a progress line on stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tools/lb-bench/histogram.hpp"
#include "tools/lb-bench/workload.hpp"
#include "transport/client.hpp"

namespace lb::bench {

enum class target_kind { requests, ingest, redis, echo };
const char* target_name(target_kind t);
std::optional<target_kind> parse_target(const std::string& name);

struct run_options {
  target_kind target = target_kind::requests;
  std::string endpoint;        // the target's socket
  std::string stats_endpoint;  // ingest: the service's requests socket, for stats
  transport::client_keys keys; // CURVE on leaderboardd's sockets (none: plain)
  uint64_t clients = 8;
  uint64_t depth = 32;                    // closed loop: requests in flight per client
  uint64_t rate = 0;                      // > 0: open loop at this many requests/s in total
  uint64_t batch = 100;                   // ingest: submits per frame
  double seconds = 5;                     // measured
  std::chrono::milliseconds warmup{1000}; // unmeasured, before them (not for ingest)
  bool preload = false;                   // submit every player once before measuring
  int pid = 0;                            // the target's process, for CPU and RSS (0: not measured)
  bool progress = true;
};

struct run_result {
  std::string target;
  std::string endpoint;
  uint64_t ops = 0;      // replies (ingest: events applied) in the window
  uint64_t errors = 0;   // error replies among them
  double seconds = 0;    // the window
  double throughput = 0; // ops / seconds
  histogram latency;     // ns; empty for ingest (no replies)
  bool open_loop = false;
  uint64_t rate = 0;
  uint64_t sent = 0;                         // ingest: events sent
  std::optional<double> cpu_cores;           // the target's CPU seconds per second of the window
  std::optional<uint64_t> rss_bytes;         // the target's peak VmRSS seen during the run
  std::optional<double> switches_per_op;     // the target's context switches per op in the window
  uint64_t preloaded = 0;                    // entries the preload created (boards x players)
  std::optional<int64_t> preload_rss_growth; // VmRSS after the preload minus before it
};

// Throws target_error when the target cannot be reached or misbehaves.
run_result run(const run_options& o, std::shared_ptr<const workload> w);

} // namespace lb::bench
