#include "actors/ranking/season.hpp"

#include <algorithm>
#include <string>

namespace lb::ranking {

const closed_season* find_season(const season_list* list, uint32_t n) {
  if (list == nullptr)
    return nullptr;
  auto i = std::lower_bound(list->begin(), list->end(), n,
                            [](const closed_season& s, uint32_t x) { return s.span.season < x; });
  return i != list->end() && i->span.season == n ? &*i : nullptr;
}

season_list_ptr with_season(const season_list* list, closed_season added, uint32_t keep) {
  auto out = std::make_shared<season_list>();
  if (list != nullptr) {
    const size_t room = keep > 0 ? keep - 1 : 0;
    const size_t skip = list->size() > room ? list->size() - room : 0;
    out->assign(list->begin() + static_cast<std::ptrdiff_t>(skip), list->end());
  }
  if (keep > 0)
    out->push_back(std::move(added));
  return out;
}

season_list_ptr trimmed(const season_list_ptr& list, uint32_t keep) {
  if (list == nullptr || list->size() <= keep)
    return list;
  auto out = std::make_shared<season_list>(
    list->begin() + static_cast<std::ptrdiff_t>(list->size() - keep), list->end());
  return out;
}

std::string check_season_list(const season_list& list, uint32_t keep) {
  if (list.size() > keep)
    return "holds " + std::to_string(list.size()) + " seasons, keep is " + std::to_string(keep);
  for (size_t i = 0; i < list.size(); ++i) {
    const auto& s = list[i];
    if (i > 0 && list[i - 1].span.season >= s.span.season)
      return "season " + std::to_string(s.span.season) + " follows "
             + std::to_string(list[i - 1].span.season);
    if (!s.part)
      return "season " + std::to_string(s.span.season) + " has no part";
    if (s.part->tree.size() != s.part->players.size())
      return "season " + std::to_string(s.span.season) + ": tree holds "
             + std::to_string(s.part->tree.size()) + " entries, index "
             + std::to_string(s.part->players.size());
    std::string bad;
    s.part->players.for_each([&](const player_slot& slot) {
      if (bad.empty() && !s.part->tree.contains(slot.key))
        bad = "season " + std::to_string(s.span.season) + ": a player's key is not in the tree";
    });
    if (!bad.empty())
      return bad;
  }
  return {};
}

} // namespace lb::ranking
