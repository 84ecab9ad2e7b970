// The last rank a shard published on rank/<board>/<player> for each of its
// players: rank/ goes out only when a changed player's rank differs from it,
// and it is the message's prev_rank.
//
// A live player's lives in its slot (player_slot::published_rank), so the
// memory follows the players, not the history. When an entry goes (remove,
// reset) while a rank is still published for it, the rank moves here until
// the merge that shows the player gone publishes rank nil; if the player
// comes back first, it moves back into the new slot.
//
// Invariants, whatever the order of events and merges:
// (1) Every player's last published rank is in exactly one place: its slot
//     while it has an entry, else this map (absent: none published).
// (2) The map holds only players without an entry, and never a rank of 0
//     (none published is absence), so it stays as small as the removals
//     that merges have yet to publish.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "actors/ranking/board_part.hpp"

namespace lb::ranking {

class published_ranks {
public:
  // 0: none published (the player is new to subscribers, or shown removed).
  uint64_t get(const board_part* part, std::string_view board, std::string_view player) const;
  void set(board_part* part, std::string_view board, std::string_view player, uint64_t rank);

  // Before the player's entry is removed from `part`.
  void entry_going(std::string_view board, std::string_view player, const player_slot& slot);
  // After a submit created the player's entry in `part`.
  void entry_added(board_part& part, std::string_view board, std::string_view player);

private:
  std::unordered_map<std::string, uint64_t> gone_; // by player_id; (2)
};

} // namespace lb::ranking
