// The ingress actor: the one place that orders events.
//
// It gives every accepted event its seq, frames it into the log's event
// batch, hands it to the shards it goes to (shard_map::shards_for: the
// player's owner, or every shard for reset and configure), and cuts the
// stream for the merge actor. Replies that need several shards (batch,
// reset, configure) are gathered here. Each incoming message is flushed as
// one log_append to the log actor, which writes the batch and forwards each
// shard its slice once the events are durable; CAF's per-sender FIFO order
// then keeps every shard's events in seq order and makes a freeze marker a
// consistent cut.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>

#include "actors/log_actor.hpp"
#include "actors/outbox.hpp"
#include "actors/protocol.hpp"
#include "actors/ranking/partition.hpp"

namespace lb::actors {

struct pending_batch {
  reply_to to;
  std::vector<schemas::batch_result> results;
  size_t waiting = 0;
};

// A reset waits for every shard's count; a configure for every shard's
// emptiness check.
struct pending_gather {
  reply_to to;
  size_t waiting = 0;
  uint64_t count = 0;
  std::optional<ranking::board_config> known; // the board's current configuration
  bool is_configure = false;
  schemas::configure_req configure;
  uint64_t seq = 0;                     // for reset: the event's seq
  std::optional<schemas::error> failed; // the log refused the reset
};

struct ingress_state {
  ranking::shard_map map{1};
  log_handle log;
  merge_handle merge;
  std::unique_ptr<outbox> out;

  uint64_t seq = 0;
  uint64_t next_batch = 1;
  uint64_t next_gather = 1;
  uint64_t next_cut = 1;
  log_append outgoing; // sent to the log actor at the end of each message
  std::unordered_map<uint64_t, pending_batch> batches;
  std::unordered_map<uint64_t, pending_gather> gathers;

  // While a configure checks that its board is empty, nothing else may be
  // ordered after it: later requests wait here, in arrival order.
  bool barrier = false;
  std::deque<routed_request> stalled;

  stats_counters counters;

  static const char* name;
};

// `last_seq`: the last event recovered from the log; numbering goes on after it.
ingress_handle::behavior_type ingress_actor(ingress_handle::stateful_pointer<ingress_state> self,
                                            uint32_t shards, log_handle log, merge_handle merge,
                                            uint64_t last_seq, outbox_factory make_outbox);

} // namespace lb::actors
