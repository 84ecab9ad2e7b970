// Where each player of this shard stands in the merged view the shard holds.
//
// `around` and friends lists must read the merged view (PROTOCOL.md: `top`,
// `around` and `ranks` read the same view), but a frozen tree can only be
// searched by key, and the shard's map gives a player's live key. So the
// shard remembers, for every player whose key changed since a freeze, the
// key it had at that freeze (none if it was absent). A player's key in a view
// cut at freeze F is the first such record made after F, or its live key if
// it has not changed since. Memory follows the changes of the last few merge
// intervals, not the board size.
//
// Invariants:
// (1) There is always an interval, oldest first; the last is open (the
//     changes since the last freeze), and each other one ends where the next
//     begins. `since` never decreases: freezes come in seq order.
// (2) An interval's `before` holds, for each player whose key changed in it,
//     the key the player had when the interval began: only its first change
//     there records.
// (3) view_at drops only intervals that end at or before the view's cut, and
//     keeps up to `spare` of those, for readers whose view lags, as long as
//     they hold at most `spare_keys` keys together: after a burst (a bulk
//     load changes every player in a few intervals, and no cut comes while
//     the service is idle) they would otherwise hold a key per player for
//     as long as the service stays idle. A reader whose view is no longer
//     covered reads the shard's own view instead (covers()).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "actors/ranking/rank_key.hpp"

namespace lb::ranking {

// One string for (board, player): board names hold no NUL, so "board\0player"
// is unambiguous.
std::string player_id(std::string_view board, std::string_view player);
// The inverse: {board, player} viewing into `id`.
std::pair<std::string_view, std::string_view> split_player_id(std::string_view id);

class view_keys {
public:
  // Before the key of (board, player) changes from `old` (none: new entry).
  void changing(std::string_view board, std::string_view player, std::optional<rank_key> old);
  // The shard froze at `seq`: later changes belong to a new interval.
  void frozen(uint64_t seq);
  // The shard's view is now cut at `seq`. Intervals before it are kept a
  // little longer (`spare` of them), for readers whose view lags the shard's.
  void view_at(uint64_t seq, size_t spare = 8, size_t spare_keys = size_t{1} << 16);
  // Whether key_in_view can answer for a view cut at `view_seq`.
  bool covers(uint64_t view_seq) const { return intervals_.front().since <= view_seq; }

  // The key the player had in the view cut at `view_seq`: std::nullopt if it
  // was absent, `live` (its current key, if any) if it has not changed since.
  std::optional<rank_key> key_in_view(std::string_view board, std::string_view player,
                                      uint64_t view_seq, std::optional<rank_key> live) const;

  // Calls f(board, player) for every player whose key changed in the
  // intervals that a view cut at `upto` includes and one cut at `after` does
  // not: the players a new view shows changed. Needs the intervals after
  // `after`, which view_at keeps while the shard's view is cut there.
  template <class F>
  void changed_between(uint64_t after, uint64_t upto, F&& f) const;

private:
  struct interval {
    uint64_t since = 0; // the freeze seq this interval starts after
    std::unordered_map<std::string, std::optional<rank_key>> before; // (2)
  };
  std::deque<interval> intervals_{interval{}}; // (1)
};

template <class F>
void view_keys::changed_between(uint64_t after, uint64_t upto, F&& f) const {
  for (size_t i = 0; i + 1 < intervals_.size(); ++i) {
    auto end = intervals_[i + 1].since; // the freeze that closed interval i
    if (end <= after || end > upto)
      continue;
    for (auto& kv : intervals_[i].before) {
      auto [board, player] = split_player_id(kv.first);
      f(board, player);
    }
  }
}

} // namespace lb::ranking
