// The merged, read-only picture of every board that the merge actor
// publishes each tick: for each board, one frozen tree per shard, all cut at
// the same event seq. It is shared (never copied) by every actor that reads
// it, and kept alive by whoever still holds the pointer.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "actors/ranking/board_index.hpp"
#include "actors/ranking/board_view.hpp"

namespace lb::ranking {

struct global_view {
  uint64_t seq = 0; // the last event every part includes
  std::chrono::steady_clock::time_point made{};
  board_index boards; // shares its unchanged chunks with the previous view's

  const board_view* find(std::string_view board) const { return boards.find(board); }
};

using view_ptr = std::shared_ptr<const global_view>;

} // namespace lb::ranking
