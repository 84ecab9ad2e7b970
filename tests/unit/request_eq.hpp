// Request equality for round-trip checks (codec tests and the fuzzer):
// decoded errors compare by code only, since messages may differ.
#pragma once

#include <variant>

#include "schemas/request.hpp"

namespace lb::schemas::testing {

inline bool eq(const submit_req& a, const submit_req& b) {
  return a.board == b.board && a.player == b.player && a.score == b.score
         && a.subscore == b.subscore && a.meta == b.meta && a.existing_only == b.existing_only;
}
inline bool eq(const batch_req& a, const batch_req& b) {
  if (a.items.size() != b.items.size())
    return false;
  for (std::size_t i = 0; i < a.items.size(); ++i) {
    if (a.items[i].index() != b.items[i].index())
      return false;
    if (a.items[i].index() == 0) {
      if (!eq(std::get<0>(a.items[i]), std::get<0>(b.items[i])))
        return false;
    } else if (std::get<1>(a.items[i]).code != std::get<1>(b.items[i]).code) {
      return false;
    }
  }
  return true;
}
inline bool eq(const rank_req& a, const rank_req& b) {
  return a.board == b.board && a.player == b.player && a.exact == b.exact && a.season == b.season;
}
inline bool eq(const top_req& a, const top_req& b) {
  return a.board == b.board && a.limit == b.limit && a.offset == b.offset && a.exact == b.exact
         && a.after == b.after && a.season == b.season;
}
inline bool eq(const around_req& a, const around_req& b) {
  return a.board == b.board && a.player == b.player && a.radius == b.radius && a.exact == b.exact
         && a.season == b.season;
}
inline bool eq(const ranks_req& a, const ranks_req& b) {
  return a.board == b.board && a.players == b.players && a.exact == b.exact && a.season == b.season;
}
inline bool eq(const remove_req& a, const remove_req& b) {
  return a.board == b.board && a.player == b.player;
}
inline bool eq(const reset_req& a, const reset_req& b) {
  return a.board == b.board && a.archive == b.archive;
}
inline bool eq(const configure_req& a, const configure_req& b) {
  return a.board == b.board && a.order == b.order && a.op == b.op && a.schedule == b.schedule
         && a.keep == b.keep;
}
inline bool eq(const seasons_req& a, const seasons_req& b) {
  return a.board == b.board;
}
inline bool eq(const boards_req& a, const boards_req& b) {
  return a.exact == b.exact && a.limit == b.limit && a.after == b.after;
}
inline bool eq(const stats_req&, const stats_req&) {
  return true;
}
inline bool eq(const ping_req&, const ping_req&) {
  return true;
}
inline bool eq(const request_body& a, const request_body& b) {
  if (a.index() != b.index())
    return false;
  return std::visit([&](const auto& x) { return eq(x, std::get<std::decay_t<decltype(x)>>(b)); },
                    a);
}

} // namespace lb::schemas::testing
