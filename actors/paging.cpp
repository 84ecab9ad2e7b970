#include "actors/paging.hpp"

#include <algorithm>

namespace lb::actors {

void fill_top_page(const std::vector<const ranking::tree_reader*>& parts, const schemas::top_req& q,
                   schemas::board_order order, schemas::entries_reply& r) {
  const ranking::merged_ranking ranking{parts};
  r.total = ranking.total();
  r.paged = true;
  r.entries.reserve(static_cast<size_t>(std::min<uint64_t>(q.limit, r.total)));
  uint64_t last_rank = 0;
  ranking::rank_key last_key;
  auto add = [&](uint64_t at, const ranking::rank_key& k, const ranking::entry_rec& rec) {
    r.entries.push_back(ranking::to_entry_view(at + 1, k, rec, order));
    last_rank = at + 1;
    last_key = k;
  };
  if (q.after)
    walk_after(parts, key_of(*q.after), q.limit, add);
  else
    ranking.walk(q.offset, q.limit, add);
  if (!r.entries.empty() && last_rank < r.total)
    r.next = cursor_of(last_key);
}

} // namespace lb::actors
