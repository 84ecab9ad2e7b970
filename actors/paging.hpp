// Paging of `top` and `boards` (PROTOCOL.md "Paging"), shared by the exact
// answers (shard_exact.cpp) and the merged view's (reader_actor.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "actors/ranking/merged_ranking.hpp"
#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/rank_key.hpp"
#include "schemas/reply.hpp"
#include "schemas/request.hpp"

namespace lb::actors {

// A cursor is an entry's rank key as it is.
inline ranking::rank_key key_of(const schemas::top_cursor& c) {
  return {c.primary, c.secondary, c.seq};
}
inline schemas::top_cursor cursor_of(const ranking::rank_key& k) {
  return {k.primary, k.secondary, k.seq};
}

// Calls f(position, key, rec) for up to n entries of the board whose parts
// are `parts`, best first, from the first entry ranking strictly after
// `after` (which need not be on the board). `position` is 0-based and
// global: the entries ranking at or before `after` on every part. Finding
// the start is O(S log n) (a lower bound and a count per part); each entry
// then costs O(S).
template <class F>
void walk_after(const std::vector<const ranking::tree_reader*>& parts,
                const ranking::rank_key& after, uint64_t n, F&& f) {
  uint64_t pos = 0;
  std::vector<ranking::tree_cursor> cursors;
  cursors.reserve(parts.size());
  for (const auto* p : parts) {
    pos += p->count_before(after);
    auto c = p->lower_bound(after);
    if (c.valid() && c.key() == after) {
      c.next();
      ++pos;
    }
    cursors.push_back(c);
  }
  ranking::merge_cursors(cursors, pos, n, f);
}

// One `top` page over a board's parts: from q.offset, or after q.after when
// set. Sets r.total, r.entries, r.paged and r.next (the last entry's cursor
// when entries rank after it).
void fill_top_page(const std::vector<const ranking::tree_reader*>& parts, const schemas::top_req& q,
                   schemas::board_order order, schemas::entries_reply& r);

// The `limit` smallest distinct names above `after`, out of names offered
// one at a time in any order and with repeats (each shard knows a board):
// a bounded selection instead of a sort of every name. It keeps limit + 1
// names at most; once full, a name that does not make the cut costs one
// comparison, one that does O(log limit). The views must outlive it.
class name_picker {
public:
  name_picker(const std::optional<std::string>& after, uint32_t limit)
    : after_(after), limit_(limit) {}

  void offer(std::string_view name) {
    if (after_ && name <= std::string_view(*after_))
      return;
    if (picked_.size() > limit_) { // full: limit + 1 names
      if (!(name < *picked_.rbegin()) || !picked_.insert(name).second)
        return;
      picked_.erase(std::prev(picked_.end()));
      return;
    }
    picked_.insert(name);
  }

  // The page's names in order; `more` says whether names above the last
  // were offered too.
  std::vector<std::string_view> page(bool& more) const {
    more = picked_.size() > limit_;
    std::vector<std::string_view> out(picked_.begin(), picked_.end());
    if (more)
      out.pop_back();
    return out;
  }

private:
  const std::optional<std::string>& after_;
  uint32_t limit_;
  std::set<std::string_view> picked_;
};

} // namespace lb::actors
