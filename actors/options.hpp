// The settings of a leaderboard service, one struct per concern, each with
// its defaults: where the defaults live (leaderboardd's --help prints them
// from here; only its shard count, one per core, is the daemon's own).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

namespace lb::actors {

enum class fsync_policy { always, group, none };

inline const char* to_string(fsync_policy p) {
  switch (p) {
    case fsync_policy::always:
      return "always";
    case fsync_policy::group:
      return "group";
    case fsync_policy::none:
      break;
  }
  return "none";
}

// The event log (log_actor.hpp).
struct log_options {
  std::filesystem::path dir;
  fsync_policy policy = fsync_policy::group;
  uint64_t segment_bytes = 64 << 20;
  std::chrono::microseconds group_window{2000};
  bool retain = false; // keep segments that a snapshot covers
};

// When to write a snapshot: after `every_events` events or `every` time,
// whichever comes first (0 turns either off), never two at once.
struct snapshot_policy {
  uint64_t every_events = 1000000;
  std::chrono::seconds every{300};
};

struct service_options {
  uint32_t shards = 2;
  uint32_t readers = 2;
  std::chrono::milliseconds merge_interval{50};
  log_options log;
  snapshot_policy snapshot;
  uint32_t top_k = 10; // entries in a top/ update
  // Updates handed to the publisher and not yet written, past which
  // producers drop new ones (update_channel.hpp).
  uint64_t max_update_backlog = 100000;
  // The log and snapshot actors block on the disk, so each gets a thread of
  // its own. Tests on CAF's deterministic scheduler turn this off, so that
  // every actor runs when the test says.
  bool detach_disk_actors = true;
};

} // namespace lb::actors
