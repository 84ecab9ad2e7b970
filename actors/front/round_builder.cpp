#include "actors/front/round_builder.hpp"

#include <algorithm>

namespace lb::actors {

namespace {

bool is_event(const shard_op& op) {
  return std::holds_alternative<submit_event>(op) || std::holds_alternative<remove_event>(op)
         || std::holds_alternative<reset_event>(op) || std::holds_alternative<configure_event>(op);
}

} // namespace

round_builder::round_builder(uint32_t shards, uint64_t last_seq)
  : map_(shards), seq_(last_seq), round_start_seq_(last_seq), last_event_round_(shards, 0) {
  current_.ops.resize(shards);
  current_.ingest_events.resize(shards, 0);
}

void round_builder::op(uint32_t shard, shard_op op) {
  current_.ops[shard].push_back(std::move(op));
}

void round_builder::to_all(const shard_op& op) {
  for (auto& ops : current_.ops)
    ops.push_back(op);
}

void round_builder::rewind() {
  seq_ = round_start_seq_;
  current_.events = storage::event_batch{};
  for (auto& ops : current_.ops)
    for (auto& op : ops)
      if (auto* m = std::get_if<freeze_marker>(&op))
        m->seq = std::min(m->seq, seq_);
}

bool round_builder::empty() const {
  for (const auto& ops : current_.ops)
    if (!ops.empty())
      return false;
  return true;
}

std::vector<std::pair<uint32_t, shard_round>> round_builder::cut() {
  std::vector<std::pair<uint32_t, shard_round>> out;
  if (empty())
    return out;
  ++round_;
  for (uint32_t s = 0; s < map_.size(); ++s)
    for (const auto& op : current_.ops[s])
      if (is_event(op)) {
        last_event_round_[s] = round_;
        break;
      }
  for (uint32_t s = 0; s < map_.size(); ++s) {
    if (current_.ops[s].empty())
      continue;
    shard_round r;
    r.round = round_;
    r.last_seq = seq_;
    r.need = last_event_round_;
    r.ops = std::move(current_.ops[s]);
    r.ingest_events = current_.ingest_events[s];
    out.emplace_back(s, std::move(r));
  }
  round_start_seq_ = seq_;
  current_ = round{};
  current_.ops.resize(map_.size());
  current_.ingest_events.resize(map_.size(), 0);
  return out;
}

} // namespace lb::actors
