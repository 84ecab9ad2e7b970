// The merged, read-only picture of every board that the merge actor
// publishes each tick: for each board, one frozen tree per shard, all cut at
// the same event seq. It is shared (never copied) by every actor that reads
// it, and kept alive by whoever still holds the pointer.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/ranking/board_config.hpp"
#include "actors/ranking/order_tree.hpp"

namespace lb::ranking {

struct board_view {
  std::string name;
  board_config config;
  std::vector<frozen_tree> parts; // index = shard
  uint64_t total = 0;
};

using board_view_ptr = std::shared_ptr<const board_view>;

struct global_view {
  uint64_t seq = 0; // the last event every part includes
  std::chrono::steady_clock::time_point made{};
  std::map<std::string, board_view_ptr, std::less<>> boards;

  const board_view* find(std::string_view board) const {
    auto i = boards.find(board);
    return i == boards.end() ? nullptr : i->second.get();
  }
};

using view_ptr = std::shared_ptr<const global_view>;

} // namespace lb::ranking
