#pragma once

#include <string>

#include "actors/ranking/global_view.hpp"

namespace lb::ranking {

// XXH3-128 over the boards in name order: each board's name, order and
// operator, then its entries in rank order as player, score, subscore, meta.
// Only data goes in (no seq, no shard layout), so equal data gives an equal
// digest whatever the shard count or history. Walks every entry: O(n).
std::string state_digest(const global_view& view);

} // namespace lb::ranking
