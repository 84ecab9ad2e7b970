// Which shard owns what: the key-to-shard rule in one place. Every component
// that routes a player or an event (gateway, readers, recovery,
// snapshots) asks a shard_map, so they always agree.
//
// A player of a board belongs to one shard, chosen by a hash of (board,
// player); an event about one player goes to that shard, an event about a
// whole board (reset, configure) to every shard.
#pragma once

#include <cstdint>
#include <string_view>

#include "schemas/event_record.hpp"

namespace lb::ranking {

// Shard indexes [first, last), for range-for.
struct shard_range {
  struct iterator {
    uint32_t i;
    uint32_t operator*() const { return i; }
    iterator& operator++() {
      ++i;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i != o.i; }
  };
  uint32_t first = 0;
  uint32_t last = 0;
  iterator begin() const { return {first}; }
  iterator end() const { return {last}; }
};

class shard_map {
public:
  explicit shard_map(uint32_t shards) : shards_(shards) {}

  uint32_t size() const { return shards_; }
  // The shard that owns `player` of `board`.
  uint32_t owner(std::string_view board, std::string_view player) const;

  // The shards an event goes to.
  shard_range shards_for(const schemas::submit_req& e) const { return one(e.board, e.player); }
  shard_range shards_for(const schemas::remove_req& e) const { return one(e.board, e.player); }
  shard_range shards_for(const schemas::reset_req&) const { return {0, shards_}; }
  shard_range shards_for(const schemas::configure_req&) const { return {0, shards_}; }
  shard_range shards_for(const schemas::configure_event_body&) const { return {0, shards_}; }
  shard_range shards_for(const schemas::rollover_body&) const { return {0, shards_}; }
  shard_range shards_for(const schemas::event_body& e) const {
    return std::visit([this](const auto& x) { return shards_for(x); }, e);
  }

private:
  shard_range one(std::string_view board, std::string_view player) const {
    auto s = owner(board, player);
    return {s, s + 1};
  }

  uint32_t shards_;
};

} // namespace lb::ranking
