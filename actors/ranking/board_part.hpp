// One board's entries on one shard: the ordered tree for ranks beside an
// index from player name to the entry's current key (player_index.hpp). Owned by one shard actor;
// no other thread touches it (others read only frozen snapshots of the tree).
//
// Invariants:
// (1) The index and the tree hold the same entries: a player's slot has
//     key k and record r exactly when the tree holds k with r, so both have
//     the same size and every change updates both.
// (2) No two entries share a key: a key's seq is the event that gave the
//     entry its value, and an event gives one entry of a board its value.
// (3) The current season's number is above every closed season's, and
//     `closed` holds at most config().keep seasons (season.hpp (3)).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "actors/ranking/board_config.hpp"
#include "actors/ranking/entry_rec.hpp"
#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/player_index.hpp"
#include "actors/ranking/season.hpp"
#include "schemas/event_record.hpp"
#include "schemas/request.hpp"

namespace lb::ranking {

// What a submit did, for its reply.
struct submit_effect {
  std::optional<rank_key> old_key; // the entry before, if there was one
  rank_key key;                    // the entry now
  bool changed = false;
};

class board_part {
public:
  explicit board_part(board_config config = {}) : config_(config) {}

  const board_config& config() const { return config_; }
  // Callers check emptiness first when order or operator change (PROTOCOL.md).
  // `at_ms`: the configure's time; a new schedule counts from it.
  void configure(board_config c, int64_t at_ms);

  submit_effect submit(const schemas::submit_req& req, uint64_t seq);
  bool remove(std::string_view player);
  uint64_t reset(uint64_t seq); // returns how many entries went
  // Closes the current season at `seq`: its entries move, in O(1), to a
  // kept season_part (season.hpp) and the board starts season r.season + 1,
  // empty. Returns how many entries moved.
  uint64_t rollover(const schemas::rollover_body& r, uint64_t seq);
  // An entry from a snapshot, with the key it had (its seq included, which
  // breaks ties). Precondition: `player` is not on the board and no entry
  // has `key` (2).
  void restore(std::string_view player, const rank_key& key,
               const std::optional<schemas::meta_value>& meta);

  const player_slot* find(std::string_view player) const;
  // No-op for a player not on the board.
  void set_published_rank(std::string_view player, uint64_t rank);
  template <class F>
  void for_each_player(F&& f) const {
    players_.for_each([&](const player_slot& slot) { f(slot.rec->name(), slot); });
  }
  const order_tree& tree() const { return tree_; }
  uint64_t size() const { return tree_.size(); }

  // The seq of the last reset: views cut before it hold stale parts of this
  // board on other shards.
  uint64_t reset_seq() const { return reset_seq_; }

  frozen_tree freeze() { return tree_.freeze(); }

  const season_clock& season() const { return season_; }
  // The kept closed seasons, oldest first (null: none).
  const season_list_ptr& closed() const { return closed_; }
  // From a snapshot.
  void restore_seasons(const season_clock& clock, season_list_ptr closed);

  // For tests: (1)-(3), empty when they hold.
  std::string check_invariants() const;

private:
  board_config config_;
  season_clock season_;
  season_list_ptr closed_;
  order_tree tree_;
  player_index players_;
  uint64_t reset_seq_ = 0;
};

} // namespace lb::ranking
