// Global rank over a board split across shards: one ordered part per shard,
// each a live tree (the asking shard's own) or a frozen one (everyone else's,
// from the latest view). Keys are unique across parts, so the global order is
// the merge of the parts' orders and a global rank is a sum of local counts.
#pragma once

#include <cstdint>
#include <vector>

#include "actors/ranking/global_view.hpp"
#include "actors/ranking/order_tree.hpp"
#include "schemas/reply.hpp"

namespace lb::ranking {

class merged_ranking {
public:
  explicit merged_ranking(std::vector<const tree_reader*> parts);

  uint64_t total() const;

  // Entries that rank better than k, on all parts: O(S log n).
  uint64_t count_before(const rank_key& k) const;

  // Calls f(position, key, rec) for up to n entries from the 0-based global
  // position `first`, best first. Finding the start is a binary search per
  // part, O(S^2 log^2 n); each further entry costs O(S).
  template <class F>
  void walk(uint64_t first, uint64_t n, F&& f) const;

private:
  bool key_at(uint64_t position, rank_key& out) const;

  std::vector<const tree_reader*> parts_;
};

// The board as the merged view holds it: every shard's frozen part.
merged_ranking view_ranking(const board_view& bv);
// A closed season over its parts on every shard (season_on_shards).
merged_ranking season_ranking(const std::vector<const closed_season*>& parts);

// The k-way merge behind every walk: calls f(position, key, rec) for up to
// n entries, best first, taking each from whichever part's cursor holds the
// best key; `pos` is the first one's global position. O(S) an entry.
template <class F>
void merge_cursors(std::vector<tree_cursor>& cursors, uint64_t pos, uint64_t n, F&& f) {
  for (const uint64_t end = pos + n; pos < end; ++pos) {
    tree_cursor* best = nullptr;
    for (auto& c : cursors)
      if (c.valid() && (best == nullptr || c.key() < best->key()))
        best = &c;
    if (best == nullptr)
      return;
    f(pos, best->key(), best->rec());
    best->next();
  }
}

// The reply form of one entry.
schemas::entry_view to_entry_view(uint64_t rank, const rank_key& key, const entry_rec& rec,
                                  schemas::board_order order);

template <class F>
void merged_ranking::walk(uint64_t first, uint64_t n, F&& f) const {
  rank_key start;
  if (n == 0 || !key_at(first, start))
    return;
  std::vector<tree_cursor> cursors;
  cursors.reserve(parts_.size());
  for (auto* p : parts_)
    cursors.push_back(p->lower_bound(start));
  merge_cursors(cursors, first, n, f);
}

} // namespace lb::ranking
