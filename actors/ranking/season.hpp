// Closed seasons (PROTOCOL.md "Seasons"): what a rollover leaves behind of
// one shard's part of a board, frozen for good and readable from any thread.
//
// A rollover moves the live part into a season_part in O(1): the tree is
// frozen (an epoch bump) and the live tree lets go of its root, the player
// index is moved, not copied. So a kept season costs exactly the bytes the
// live board had, and closing a board of a million players stalls nothing.
//
// Invariants:
// (1) A season_part never changes after it is made: its tree is frozen, and
//     nothing holds its index but through a pointer to const.
// (2) The index and the tree hold the same entries (board_part.hpp (1)).
// (3) A season_list is ordered by season number, strictly increasing, and
//     holds at most its board's `keep` seasons. Lists are immutable too: a
//     rollover makes a new one, so shards and views share them by pointer.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "actors/ranking/board_config.hpp"
#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/player_index.hpp"
#include "schemas/types.hpp"

namespace lb::ranking {

struct season_part {
  frozen_tree tree;
  player_index players;
};

// A season_part shared by pointer. When the last holder lets go, the part
// is freed on a low-priority thread of its own, not on the holder's: a
// season of a million entries takes some 150 ms to free, and the holder
// may be a shard in the middle of a round (bench/ROLLOVER.md).
std::shared_ptr<const season_part> share_season_part(season_part&& part);
// Blocks until every part let go so far is freed (tests count records).
void wait_for_freed_seasons();

struct closed_season {
  schemas::season_span span;
  std::shared_ptr<const season_part> part; // this shard's players of it
  // The board's settings when it closed: its order reads its keys, even
  // after the (then empty) board was configured another way.
  board_config config;
};

using season_list = std::vector<closed_season>;
using season_list_ptr = std::shared_ptr<const season_list>;

// The season a board is in now.
struct season_clock {
  uint32_t number = 1;
  int64_t start_ms = 0;   // 0: unknown (no schedule or rollover set it)
  uint64_t start_seq = 0; // the previous rollover's seq + 1 (0 for the first season)
  // When the schedule counts the next boundary from: the later of the
  // season's start and the time the schedule was set.
  int64_t anchor_ms = 0;
};

// Season `n` in `list`, or nullptr when it is not kept (list may be null).
const closed_season* find_season(const season_list* list, uint32_t n);

// `list` plus `added`, keeping the newest `keep` (3).
season_list_ptr with_season(const season_list* list, closed_season added, uint32_t keep);
// `list` without its oldest seasons past `keep`; `list` itself when none go.
season_list_ptr trimmed(const season_list_ptr& list, uint32_t keep);

// A board's lists by shard, as views (season_list_ptr) and shards
// (const season_list*) hold them.
inline const season_list* list_of(const season_list_ptr& l) {
  return l.get();
}
inline const season_list* list_of(const season_list* l) {
  return l;
}

// Every shard keeps the same closed seasons (a rollover goes to all): the
// list of the first shard that has any, for their spans; nullptr if none.
template <class Lists>
const season_list* kept_seasons(const Lists& by_shard) {
  for (const auto& l : by_shard)
    if (list_of(l) != nullptr && !list_of(l)->empty())
      return list_of(l);
  return nullptr;
}

// Season `n` on every shard that keeps it: its parts, shard by shard.
template <class Lists>
std::vector<const closed_season*> season_on_shards(const Lists& by_shard, uint32_t n) {
  std::vector<const closed_season*> out;
  for (const auto& l : by_shard)
    if (const auto* s = find_season(list_of(l), n))
      out.push_back(s);
  return out;
}

// For tests: (2) and (3) (keep: the board's), empty when they hold.
std::string check_season_list(const season_list& list, uint32_t keep);

} // namespace lb::ranking
