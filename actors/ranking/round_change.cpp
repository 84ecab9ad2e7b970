#include "actors/ranking/round_change.hpp"

namespace lb::ranking {

part_count count_at(const tree_reader* base, const std::vector<const key_move*>* moves,
                    const rank_key& k, uint64_t seq) {
  // A reset before `seq` in this round makes the part empty at that point:
  // only the moves after it count.
  std::size_t from = 0;
  bool emptied = false;
  if (moves != nullptr)
    for (std::size_t i = 0; i < moves->size() && (*moves)[i]->seq < seq; ++i)
      if ((*moves)[i]->reset) {
        from = i + 1;
        emptied = true;
      }
  part_count c;
  if (!emptied && base != nullptr) {
    c.before = base->count_before(k);
    c.total = base->size();
  }
  if (moves == nullptr)
    return c;
  for (std::size_t i = from; i < moves->size() && (*moves)[i]->seq < seq; ++i) {
    const key_move& m = *(*moves)[i];
    if (m.before) {
      c.before -= *m.before < k;
      --c.total;
    }
    if (m.after) {
      c.before += *m.after < k;
      ++c.total;
    }
  }
  return c;
}

std::unordered_map<std::string_view, std::vector<const key_move*>>
moves_by_board(const round_change& c) {
  std::unordered_map<std::string_view, std::vector<const key_move*>> out;
  for (const auto& m : c.moves)
    out[c.parts[m.board].board].push_back(&m);
  return out;
}

} // namespace lb::ranking
