// What one round of the event stream changed on one shard, in the form the
// other shards need to give exact ranks (actors/shard_actor.hpp): the
// shard's part of each board it changed, frozen after the round, and every
// key that moved during the round, in seq order.
//
// A shard ranks its own events against its live tree; for every other shard
// it counts in that shard's part as of the round before, then replays that
// shard's moves of the same round up to the event's seq (count_at below).
// So a submit's rank counts exactly the events before it, on every shard.
//
// Invariants:
// (1) `moves` are in seq order, and every move's board is in `parts`.
// (2) A part holds exactly the entries of the shard's part before the round,
//     after applying the round's moves of that board in order (a reset move
//     empties it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "actors/ranking/board_config.hpp"
#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/season.hpp"

namespace lb::ranking {

struct part_change {
  std::string board;
  board_config config;
  frozen_tree tree; // the part after the round
  season_clock season;
  season_list_ptr closed; // the shard's parts of the board's kept seasons
};

// One entry's key moving at `seq`: inserted (no `before`), removed (no
// `after`), changed (both); or, with `reset`, the whole part emptied.
struct key_move {
  uint32_t board = 0; // index into round_change::parts
  uint64_t seq = 0;
  std::optional<rank_key> before;
  std::optional<rank_key> after;
  bool reset = false;
};

struct round_change {
  uint64_t round = 0;
  std::vector<part_change> parts;
  std::vector<key_move> moves;
};

// Entries of one shard's part that rank before a key, and the part's size.
struct part_count {
  uint64_t before = 0;
  uint64_t total = 0;
};

// The shard's part as of just before `seq`: `base` is the part before the
// round (nullptr: none), `moves` the round's moves of this board (in seq
// order, nullptr: none). O(log n + moves).
part_count count_at(const tree_reader* base, const std::vector<const key_move*>* moves,
                    const rank_key& k, uint64_t seq);

// The round's moves grouped by board name, for count_at.
std::unordered_map<std::string_view, std::vector<const key_move*>>
moves_by_board(const round_change& c);

} // namespace lb::ranking
