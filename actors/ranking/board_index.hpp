// The global view's boards by name: a persistent sorted map in two levels,
// so that a merge which changes k of B boards costs O(B / chunk_max + k *
// chunk_max) pointer copies instead of a copy of every board. A view keeps
// its index forever (views are immutable); the next view's index shares
// every chunk the merge did not touch.
//
// Invariants (check_invariants() checks them, a test runs it):
// (1) Every chunk holds 1..chunk_max boards, sorted by name with no name
//     twice; the chunks in order hold names in strictly increasing order, so
//     iterating chunk by chunk visits every board once in name order.
// (2) size() is the number of boards in all chunks, entries() the sum of
//     their totals, digest() the sum of their board_digest() terms.
// (3) A chunk is never changed once an index holds it: with() builds new
//     chunks for what changed and shares the rest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/ranking/board_view.hpp"
#include "actors/ranking/content_digest.hpp"

namespace lb::ranking {

class board_index {
  struct chunk {
    std::vector<board_view_ptr> boards; // (1)
  };
  using chunk_ptr = std::shared_ptr<const chunk>;

public:
  // Splitting at twice the half keeps chunks between chunk_max / 2 and
  // chunk_max once they have grown (a chunk is copied whole on a change, so
  // this bounds a merge's copy per changed board).
  static constexpr size_t chunk_max = 256;

  class iterator {
  public:
    const board_view_ptr& operator*() const { return (*chunks_)[c_]->boards[i_]; }
    const board_view_ptr* operator->() const { return &**this; }
    iterator& operator++() {
      if (++i_ == (*chunks_)[c_]->boards.size()) {
        ++c_;
        i_ = 0;
      }
      return *this;
    }
    bool operator==(const iterator& o) const { return c_ == o.c_ && i_ == o.i_; }
    bool operator!=(const iterator& o) const { return !(*this == o); }

  private:
    friend class board_index;
    iterator(const std::vector<chunk_ptr>* chunks, size_t c, size_t i)
      : chunks_(chunks), c_(c), i_(i) {}
    const std::vector<chunk_ptr>* chunks_;
    size_t c_;
    size_t i_;
  };

  size_t size() const { return size_; }
  uint64_t entries() const { return entries_; } // the boards' totals, summed
  // The state digest (digest.hpp): the boards' terms, summed.
  const content_digest& digest() const { return digest_; }
  bool empty() const { return size_ == 0; }
  iterator begin() const { return {&chunks_, 0, 0}; }
  iterator end() const { return {&chunks_, chunks_.size(), 0}; }
  // The first board whose name is not below `name`.
  iterator lower_bound(std::string_view name) const;
  // The first board whose name is above `name` (paging: the board after it).
  iterator upper_bound(std::string_view name) const;
  const board_view* find(std::string_view name) const;

  // This index with `changed` put in, each replacing the board of its name
  // if there is one. `changed` must be sorted by name with no name twice.
  board_index with(const std::vector<board_view_ptr>& changed) const;

  // (1) and (2); a description of the first violation, empty when all hold.
  std::string check_invariants() const;

private:
  std::vector<chunk_ptr> chunks_;
  size_t size_ = 0;
  uint64_t entries_ = 0;
  content_digest digest_;
};

} // namespace lb::ranking
