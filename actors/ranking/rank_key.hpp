// The total order of a board, folded into one unsigned lexicographic key.
//
// PROTOCOL.md orders entries by (score, subscore) under the board's order,
// then by the seq at which the entry reached that value. Mapping each signed
// value to an unsigned one whose natural order is "better first" lets every
// tree and every comparison ignore the board's order: smaller key = better rank.
#pragma once

#include <cstdint>
#include <tuple>

#include "schemas/types.hpp"

namespace lb::ranking {

struct rank_key {
  uint64_t primary = 0;   // score, order-folded
  uint64_t secondary = 0; // subscore, order-folded
  uint64_t seq = 0;       // event that gave the entry this value

  friend bool operator<(const rank_key& a, const rank_key& b) {
    return std::tie(a.primary, a.secondary, a.seq) < std::tie(b.primary, b.secondary, b.seq);
  }
  friend bool operator==(const rank_key& a, const rank_key& b) {
    return a.primary == b.primary && a.secondary == b.secondary && a.seq == b.seq;
  }
  friend bool operator!=(const rank_key& a, const rank_key& b) { return !(a == b); }
};

// Flipping the sign bit maps int64 onto uint64 monotonically; complementing
// reverses it, so `desc` boards put the highest score first.
inline uint64_t fold(int64_t v, schemas::board_order o) {
  uint64_t u = static_cast<uint64_t>(v) ^ (uint64_t{1} << 63);
  return o == schemas::board_order::asc ? u : ~u;
}

inline int64_t unfold(uint64_t u, schemas::board_order o) {
  if (o == schemas::board_order::desc)
    u = ~u;
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

inline rank_key make_key(int64_t score, int64_t subscore, uint64_t seq, schemas::board_order o) {
  return {fold(score, o), fold(subscore, o), seq};
}

} // namespace lb::ranking
