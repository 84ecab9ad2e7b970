#include "actors/ranking/merged_ranking.hpp"

namespace lb::ranking {

merged_ranking::merged_ranking(std::vector<const tree_reader*> parts) : parts_(std::move(parts)) {}

uint64_t merged_ranking::total() const {
  uint64_t n = 0;
  for (auto* p : parts_)
    n += p->size();
  return n;
}

uint64_t merged_ranking::count_before(const rank_key& k) const {
  uint64_t n = 0;
  for (auto* p : parts_)
    n += p->count_before(k);
  return n;
}

// The entry at a global position sits at some local index i of one part, and
// then i plus the other parts' counts before its key equals the position.
// That sum grows strictly with i, so each part can be binary-searched.
bool merged_ranking::key_at(uint64_t position, rank_key& out) const {
  for (size_t t = 0; t < parts_.size(); ++t) {
    auto size = parts_[t]->size();
    if (size == 0)
      continue;
    uint64_t lo = 0;
    uint64_t hi = size; // search [lo, hi)
    while (lo < hi) {
      auto mid = lo + (hi - lo) / 2;
      auto key = parts_[t]->at(mid).key();
      uint64_t global = mid;
      for (size_t u = 0; u < parts_.size(); ++u)
        if (u != t)
          global += parts_[u]->count_before(key);
      if (global == position) {
        out = key;
        return true;
      }
      if (global < position)
        lo = mid + 1;
      else
        hi = mid;
    }
  }
  return false;
}

merged_ranking season_ranking(const std::vector<const closed_season*>& parts) {
  std::vector<const tree_reader*> trees;
  trees.reserve(parts.size());
  for (const auto* s : parts)
    trees.push_back(&s->part->tree);
  return merged_ranking{std::move(trees)};
}

merged_ranking view_ranking(const board_view& bv) {
  std::vector<const tree_reader*> parts;
  parts.reserve(bv.parts.size());
  for (auto& p : bv.parts)
    parts.push_back(&p);
  return merged_ranking{std::move(parts)};
}

schemas::entry_view to_entry_view(uint64_t rank, const rank_key& key, const entry_rec& rec,
                                  schemas::board_order order) {
  schemas::entry_view e;
  e.rank = rank;
  e.player = std::string(rec.name());
  e.score = unfold(key.primary, order);
  e.subscore = unfold(key.secondary, order);
  e.meta = rec.meta();
  return e;
}

} // namespace lb::ranking
