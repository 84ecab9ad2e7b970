// A shard actor: the single owner of its slice of every board's players.
//
// It applies its events in seq order, answers the rank questions that need
// a player's live entry (submit replies, `rank`, `around`, friends lists), and
// at every freeze marker hands the merge actor frozen snapshots of the boards
// that changed. Ranks it reports are its own exact count plus the other
// shards' counts from the latest merged view (PROTOCOL.md "Consistency").
//
// It also feeds the update streams of its players: a score/ message for each
// event that changed an entry (handed to the merge actor with the snapshot,
// which orders them), and, when a merged view comes in, a rank/ message for
// each player it shows changed whose rank in it differs from the last one
// published. Ranking those players here, on the shard that owns them, spreads
// the work over the shards and costs O(S log n) per changed player.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/all.hpp>

#include "actors/outbox.hpp"
#include "actors/protocol.hpp"
#include "actors/ranking/board_part.hpp"
#include "actors/ranking/merged_ranking.hpp"
#include "actors/ranking/published_ranks.hpp"
#include "actors/ranking/view_keys.hpp"
#include "actors/storage/replay_state.hpp"
#include "actors/update_channel.hpp"

namespace lb::actors {

struct shard_state {
  uint32_t index = 0;
  std::vector<shard_handle> peers; // every shard, by index (this one included)
  ingress_handle ingress;
  merge_handle merge;
  std::unique_ptr<outbox> out;
  std::unordered_map<std::string, ranking::board_part> boards;
  std::unordered_set<std::string> dirty; // changed since the last freeze
  ranking::view_ptr view;
  ranking::view_keys keys; // players' keys in `view`, for reads of the merged view
  uint64_t entries = 0;

  update_channel updates;
  std::vector<update_msg> scores; // score/ since the last freeze, in seq order
  ranking::published_ranks ranks;

  static const char* name;

  ranking::board_part* find(const std::string& board);
  const ranking::board_part* find(const std::string& board) const;
  bool board_known(const std::string& board) const;
  // This shard's live tree of the board plus every other shard's frozen part.
  ranking::merged_ranking ranking(const std::string& board, const ranking::board_part* part) const;
  // The player's key in the merged view, if it is in it.
  std::optional<ranking::rank_key> key_in_view(const std::string& board, const std::string& player,
                                               const ranking::global_view& in) const;
};

shard_handle::behavior_type shard_actor(shard_handle::stateful_pointer<shard_state> self,
                                        uint32_t index, merge_handle merge,
                                        outbox_factory make_outbox);

} // namespace lb::actors
