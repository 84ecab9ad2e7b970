// One round of the event stream in the making: the ops one drain of the
// sockets brought, in arrival order, with their seqs. Events are framed for
// the log as they are numbered (an event_batch), and each op goes to the
// shards it concerns (ranking::shard_map). Cutting the round numbers it and
// gives each shard with ops its shard_round.
//
// Invariants:
// (1) seqs increase by one per event, in the order ops are added; the
//     batch holds every event added since the last cut, once, in seq order.
// (2) each shard's ops are in the order they were added, so in seq order.
// (3) `need[s]` is the last round in which shard s had events: a shard
//     answering round r waits for those rounds' publications of the others.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "actors/protocol.hpp"
#include "actors/ranking/partition.hpp"
#include "actors/storage/event_batch.hpp"

namespace lb::actors {

class round_builder {
public:
  round_builder(uint32_t shards, uint64_t last_seq);

  struct round {
    storage::event_batch events;
    std::vector<std::vector<shard_op>> ops; // by shard
    std::vector<uint64_t> ingest_events;    // by shard
  };

  // Gives an event the next seq, frames it for the log, and hands every
  // shard it concerns the op `make_op(seq)` builds (which may move from `e`).
  template <class Event, class MakeOp>
  uint64_t event(const Event& e, MakeOp&& make_op, bool ingest);
  // A read, a check or a marker for one shard, or for every shard.
  void op(uint32_t shard, shard_op op);
  void to_all(const shard_op& op);

  bool empty() const;
  round& current() { return current_; }
  // The log refused the current round's events and the caller took their
  // ops out: their seqs are given again, and markers in the round move back
  // to the last seq before them. Seqs stay gapless, so a reply gated at this
  // round's seq is released once the log is durable that far, instead of
  // waiting for an event that will never be written.
  void rewind();
  // Numbers the round and returns one shard_round per shard with ops (by
  // shard index); the next round starts empty.
  std::vector<std::pair<uint32_t, shard_round>> cut();

  const ranking::shard_map& map() const { return map_; }
  uint64_t last_seq() const { return seq_; }

private:
  ranking::shard_map map_;
  uint64_t seq_;
  uint64_t round_start_seq_; // seq_ when the current round began
  uint64_t round_ = 0;
  std::vector<uint64_t> last_event_round_; // by shard (3)
  round current_;
};

template <class Event, class MakeOp>
uint64_t round_builder::event(const Event& e, MakeOp&& make_op, bool ingest) {
  auto seq = ++seq_;
  current_.events.add(seq, e);
  auto shards = map_.shards_for(e);
  shard_op op = make_op(seq);
  for (auto shard : shards) {
    auto& ops = current_.ops[shard];
    if (shard + 1 == shards.last)
      ops.push_back(std::move(op));
    else
      ops.push_back(op);
    current_.ingest_events[shard] += ingest;
  }
  return seq;
}

} // namespace lb::actors
