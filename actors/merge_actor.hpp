// The merge actor builds the global view every merge interval.
//
// Every merge interval the gateway cuts the event stream (a freeze marker to
// every shard at one point of it); every shard answers the cut with frozen
// snapshots of the boards that changed since its previous one, and once a
// cut is complete the merge actor tells the gateway (through its outbox), so
// that a slow merge makes the gateway skip cuts rather than queue them. The new
// view is the previous one with those boards' parts swapped in: pointer work
// in proportion to what changed, never a copy of the entries. The view then
// goes to every shard and reader, and now and then to the snapshot actor,
// which writes it to disk (a view is immutable, so writing it takes nobody's
// time but the snapshot actor's).
//
// It also publishes what each merge changed on the update streams: top/ for
// every board whose best K entries differ from the last top/ sent (or that
// was reset), and the shards' score/ messages of the merged events, which it
// hands to the publisher together so they go out in seq order. Both cost
// what the merge changed: a top-K walk per changed board, a move per shard.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "actors/outbox.hpp"
#include "actors/protocol.hpp"
#include "actors/update_channel.hpp"

namespace lb::actors {

struct merge_state {
  std::unique_ptr<outbox> out;
  std::chrono::milliseconds interval{50};
  uint32_t shard_count = 0;

  std::vector<shard_handle> shards;   // they get each view
  std::vector<reader_handle> readers; // they get each view; stats jobs go round-robin to them
  size_t next_reader = 0;

  ranking::view_ptr view;
  std::vector<schemas::shard_stats> shard_stats;
  std::map<uint64_t, std::vector<shard_snapshot>> cuts; // incomplete, by cut id
  uint64_t last_cut = 0;                                // last completed cut
  std::map<uint64_t, std::vector<stats_wanted>> stats_waiting;

  schemas::merge_timing timing;
  // The last merges' durations (us), a ring: `max_us` is their maximum, so
  // it describes recent load rather than the worst moment since start.
  std::array<uint64_t, 256> recent_us{};
  // Start and shutdown wait for the view of one cut (snap_atom).
  std::multimap<uint64_t, caf::typed_response_promise<view_ptr>> view_waiting;

  snapshot_handle snapshots; // none: snapshots are off
  snapshot_policy snapshot;
  bool snapshot_running = false;
  uint64_t snapshot_seq = 0; // of the last snapshot written or recovered
  std::chrono::steady_clock::time_point snapshot_at{};

  update_channel updates;
  uint32_t top_k = 10;
  // The entries of the last top/ per board: what "the top K changed" compares
  // against. K entries per board.
  std::unordered_map<std::string, std::vector<schemas::entry_view>> published_top;

  static const char* name;
};

merge_handle::behavior_type merge_actor(merge_handle::stateful_pointer<merge_state> self,
                                        uint32_t shards, std::chrono::milliseconds interval,
                                        uint32_t top_k, outbox_factory make_outbox);

} // namespace lb::actors
