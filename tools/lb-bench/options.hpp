// lb-bench's command line. The load and the workload are set straight into
// run_options and workload_options, which keep their defaults; what only the
// command line has (endpoints, processes, output) sits beside them. --help
// prints every default from these members.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tools/lb-bench/run.hpp"
#include "tools/lb-bench/workload.hpp"

namespace lb::bench {

struct options {
  run_options load; // the same for every target; each gets its own endpoint and pid
  workload_options workload;

  std::string requests = "tcp://127.0.0.1:7400"; // leaderboardd's sockets
  std::string ingest = "tcp://127.0.0.1:7401";
  std::string redis = "tcp://127.0.0.1:6379";
  std::string echo = "tcp://127.0.0.1:7499";
  std::string bind = "tcp://127.0.0.1:7499";         // where echo-server listens
  int requests_pid = 0, redis_pid = 0, echo_pid = 0; // 0: not measured
  std::string curve_server_key; // leaderboardd's CURVE public key, or a file holding it
  std::string curve_key;        // this client's CURVE secret key file
  bool json = false;
  bool quiet = false;

  bool echo_server = false;         // run the echo ceiling instead of a benchmark
  std::vector<target_kind> targets; // in the order given
};

// Fills `o` from argv. Returns an exit code when lb-bench should stop now (0
// after --help, 2 for a bad command line, with the message printed), nothing
// otherwise.
std::optional<int> parse_options(int argc, char** argv, options& o);

} // namespace lb::bench
