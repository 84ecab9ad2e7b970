// The state digest that `stats` and lb-replay print: equal for equal data
// whatever the shard count or history, and kept up to date by the merges
// rather than computed by a walk of every entry.
//
// It is the sum (content_digest.hpp) over the boards of each board's term:
// XXH3-128 over its name, order, operator, total and the sum of its entries'
// digests, which every tree keeps as it changes. So a merge that changes k
// boards updates it in O(k) (board_index), and `stats` reads it in O(1).
#pragma once

#include <string>

#include "actors/ranking/board_view.hpp"
#include "actors/ranking/content_digest.hpp"

namespace lb::ranking {

struct global_view;

// One board's term.
content_digest board_digest(const board_view& bv);

// The view's digest as 32 hex digits.
std::string state_digest(const global_view& view);

} // namespace lb::ranking
