// The merge actor builds the global view every merge interval.
//
// Each tick it asks the ingress for a cut; every shard answers the cut with
// frozen snapshots of the boards that changed since its previous one. The new
// view is the previous one with those boards' parts swapped in: pointer work
// in proportion to what changed, never a copy of the entries. The view then
// goes to every shard and reader.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"

namespace lb::actors {

struct merge_state {
  std::chrono::milliseconds interval{50};
  uint32_t shard_count = 0;
  caf::actor ingress;
  std::vector<caf::actor> subscribers; // shards and readers: they get each view
  std::vector<caf::actor> readers;     // stats jobs go round-robin to these
  size_t next_reader = 0;

  view_ptr view;
  std::vector<schemas::shard_stats> shard_stats;
  std::map<uint64_t, std::vector<shard_snapshot>> cuts; // incomplete, by cut id
  uint64_t last_cut = 0;                                // last completed cut
  std::map<uint64_t, std::vector<stats_wanted>> stats_waiting;
  bool tick_cut_pending = false;

  static const char* name;
};

caf::behavior merge_actor(caf::stateful_actor<merge_state>* self, uint32_t shards,
                          std::chrono::milliseconds interval);

// Sent once after spawn: who gets views and who computes stats.
struct merge_wiring {
  caf::actor ingress;
  std::vector<caf::actor> shards;
  std::vector<caf::actor> readers;
};

} // namespace lb::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(lb::actors::merge_wiring)
