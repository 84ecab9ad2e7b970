// One board in a merged view: one frozen tree per shard, all cut at the
// view's seq. Immutable once published; views share it by pointer until a
// merge changes the board.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "actors/ranking/board_config.hpp"
#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/season.hpp"

namespace lb::ranking {

struct board_view {
  std::string name;
  board_config config;
  std::vector<frozen_tree> parts; // index = shard
  uint64_t total = 0;
  season_clock season;
  std::vector<season_list_ptr> closed; // the kept seasons' parts, index = shard
};

using board_view_ptr = std::shared_ptr<const board_view>;

} // namespace lb::ranking
