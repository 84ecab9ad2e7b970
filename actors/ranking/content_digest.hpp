// An order-free digest of a set of entries: the sum, modulo 2^128, of each
// entry's XXH3-128 over its player, score, subscore and meta. Sums add and
// subtract, so a tree keeps the digest of its contents as entries come and
// go (O(1) per change), and a view's digest follows the boards a merge
// changed instead of walking every entry. A sum of strong hashes is equal
// for equal sets and, for sets that differ, equal only by a 128-bit
// coincidence; it leaves out the key's seq, so ties broken differently by
// another history still digest the same.
#pragma once

#include <cstdint>
#include <string>

#include "actors/ranking/entry_rec.hpp"
#include "actors/ranking/rank_key.hpp"

namespace lb::ranking {

struct content_digest {
  uint64_t lo = 0;
  uint64_t hi = 0;

  void add(const content_digest& d) {
    const uint64_t was = lo;
    lo += d.lo;
    hi += d.hi + (lo < was ? 1 : 0);
  }
  void sub(const content_digest& d) {
    const uint64_t was = lo;
    lo -= d.lo;
    hi -= d.hi + (lo > was ? 1 : 0);
  }
  friend bool operator==(const content_digest& a, const content_digest& b) {
    return a.lo == b.lo && a.hi == b.hi;
  }
  friend bool operator!=(const content_digest& a, const content_digest& b) { return !(a == b); }

  std::string hex() const; // 32 lowercase hex digits, high half first
};

// One entry's term. The key's values go in folded (rank_key.hpp): a board's
// order is fixed while it has entries, so folded values differ exactly when
// the scores do.
content_digest entry_digest(const rank_key& k, const entry_rec& rec);

// XXH3-128 of a byte string, as a digest term (boards' terms, see digest.hpp).
content_digest bytes_digest(const void* data, size_t n);

} // namespace lb::ranking
