#include "actors/ranking/published_ranks.hpp"

#include "actors/ranking/view_keys.hpp"

namespace lb::ranking {

uint64_t published_ranks::get(const board_part* part, std::string_view board,
                              std::string_view player) const {
  if (auto* slot = part ? part->find(player) : nullptr)
    return slot->published_rank;
  if (gone_.empty())
    return 0;
  auto i = gone_.find(player_id(board, player));
  return i == gone_.end() ? 0 : i->second;
}

void published_ranks::set(board_part* part, std::string_view board, std::string_view player,
                          uint64_t rank) {
  if (part != nullptr && part->find(player) != nullptr) {
    part->set_published_rank(player, rank);
    return;
  }
  if (rank == 0)
    gone_.erase(player_id(board, player));
  else
    gone_[player_id(board, player)] = rank;
}

void published_ranks::entry_going(std::string_view board, std::string_view player,
                                  const player_slot& slot) {
  if (slot.published_rank != 0)
    gone_[player_id(board, player)] = slot.published_rank;
}

void published_ranks::entry_added(board_part& part, std::string_view board,
                                  std::string_view player) {
  if (gone_.empty()) // the common case: no lookup, no allocation
    return;
  auto i = gone_.find(player_id(board, player));
  if (i == gone_.end())
    return;
  part.set_published_rank(player, i->second);
  gone_.erase(i);
}

} // namespace lb::ranking
