// What leaderboardd runs with, and the table of flags that sets it.
//
// The libraries' option structs keep their own defaults (one struct per
// concern); the daemon's own settings, which no library has, sit beside
// them in daemon_settings. Every flag is bound to one member of these, and
// `leaderboardd --help` prints each member's default from there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "actors/front/gateway.hpp"
#include "actors/service.hpp"
#include "transport/access.hpp"
#include "transport/server.hpp"

namespace lb::daemon {

enum class scheduler_policy { sharing, stealing };
const char* to_string(scheduler_policy p);

// The machine's cores (at least 1): leaderboardd's shards and threads.
uint32_t cores();
// 80% of the machine's memory: the default --max-memory.
uint64_t default_max_memory();
// This process's resident memory (VmRSS), in bytes.
uint64_t resident_bytes();

struct daemon_settings {
  std::string data = "./data";                  // event log and snapshots
  std::string updates = "tcp://127.0.0.1:7402"; // the PUB socket of the update streams
  int updates_hwm = 10000;                      // messages queued per subscriber
  uint64_t threads = cores();                   // CAF scheduler threads
  scheduler_policy scheduler = scheduler_policy::sharing;
  bool repair = false;    // start on a log damaged in the middle
  bool insecure = false;  // serve a non-loopback address without CURVE
  std::string ready_file; // written once the service answers; empty: none
};

struct settings {
  // leaderboardd runs one shard per core; the library defaults to a fixed count.
  settings() {
    service.shards = cores();
    limits.max_memory = default_max_memory();
    limits.resident_bytes = resident_bytes;
  }

  daemon_settings daemon;
  transport::server_options server; // requests, ingest, max_frame
  transport::access_options access; // keys and roles, max_clients
  actors::gateway_limits limits;    // requests in flight, unread replies
  actors::service_options service;  // shards, merge, top_k, log, snapshot
};

// Fills `s` from the command line, then what follows from it (readers per
// shard, the log's folder). Returns an exit code when the program should
// stop now (0 after --help, 2 for a bad command line or an endpoint that
// protected mode refuses), nothing otherwise.
std::optional<int> parse_settings(int argc, char** argv, settings& s);

} // namespace lb::daemon
