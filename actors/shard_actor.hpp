// A shard actor: the single owner of its slice of every board's players.
//
// It takes the event stream in rounds (shard_round: the shard's part of one
// drain of the gateway's sockets), in two phases:
//   1. apply the round's events in seq order, noting for each submit that
//      waits for a reply its key and its rank within this shard; then send
//      the other shards what the round changed (a shard_publication: the
//      changed boards' parts, frozen, and every key that moved);
//   2. once every other shard's publication of the rounds this one needs is
//      in, answer exactly: a submit's rank counts this shard's entries as of
//      its seq plus every other shard's as of its seq (their part before the
//      round, replayed with their moves up to that seq); a read counts every
//      shard's part as of the end of the round.
// Replies go out through the outbox behind a gate at the round's last seq,
// so the gateway releases them only once the log is durable that far.
// While a round waits for phase 2, later rounds wait behind it, so the live
// state is always that of the end of the round being answered.
//
// At every freeze marker it hands the merge actor frozen snapshots of the
// boards that changed; the merged view serves `exact: false` reads and the
// update streams. It feeds the streams of its players: a score/ message for
// each event that changed an entry (handed to the merge actor with the
// snapshot, which orders them), and, when a merged view comes in, a rank/
// message for each player it shows changed whose rank in it differs from
// the last one published (O(S log n) per changed player). It also feeds the
// follow/ topics of its players that somebody subscribes to (the publisher
// sends the set): the current state when a follow is new or has a new
// subscriber, then a message after every merged view that changes the
// player's rank, score or subscore, from whatever cause (O(S log n) per
// followed player per view, memory per followed player).
#pragma once

#include <cstdint>
#include <deque>
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
#include "actors/ranking/round_change.hpp"
#include "actors/ranking/view_keys.hpp"
#include "actors/update_channel.hpp"

namespace lb::actors {

// What phase 1 noted of a submit that waits for its reply.
struct submit_record {
  submit_target target;
  schemas::submit_reply reply; // all but rank, prev_rank and total
  ranking::rank_key key;
  uint64_t own_before = 0; // this shard's entries ranking before `key`, at the seq
  uint64_t own_total = 0;
  std::optional<ranking::rank_key> old_key; // the entry before the submit
  uint64_t own_before_old = 0;
};

using exact_read
  = std::variant<rank_read, around_read, top_read, boards_read, ranks_read, seasons_read>;

// A round between its two phases.
struct round_answers {
  uint64_t round = 0;
  uint64_t last_seq = 0;
  std::vector<uint64_t> need;
  std::vector<submit_record> submits;
  std::vector<exact_read> reads;
};

// What the other shards' publications say, by shard.
struct peer_state {
  std::deque<ranking::round_change> received; // not applied yet, in round order
  bool started = false;                       // its recovered state (round 0) is in
  uint64_t latest = 0;                        // the last round received
  // Every board part, as of the publications applied so far.
  std::unordered_map<std::string, ranking::part_change> parts;
};

// A followed player of this shard, and what its follow/ last said.
struct follow_state {
  uint64_t generation = 0;
  bool resend = true; // send the state at the next chance, changed or not
  std::optional<uint64_t> rank;
  std::optional<int64_t> score;
  std::optional<int64_t> subscore;
};

struct shard_state {
  uint32_t index = 0;
  std::vector<shard_handle> peers; // every shard, by index (this one included)
  merge_handle merge;
  std::unique_ptr<outbox> out;
  std::unordered_map<std::string, ranking::board_part> boards;
  uint64_t entries = 0;
  uint64_t refused_new = 0; // submits refused past --max-memory

  // -- rounds --
  uint64_t applied_seq = 0;                                 // the last seq phase 1 applied
  std::optional<round_answers> waiting;                     // a round whose phase 2 waits
  std::deque<shard_round> queued;                           // rounds behind it
  std::vector<peer_state> others;                           // by shard (this one's stays empty)
  ranking::round_change outgoing;                           // what the current round changed here
  std::unordered_map<std::string, uint32_t> outgoing_parts; // board -> index in it

  // -- the merged view: `exact: false` reads and the update streams --
  std::unordered_set<std::string> dirty; // changed since the last freeze marker
  view_ptr view;
  ranking::view_keys keys; // players' keys in `view`, for reads of the merged view
  uint64_t frozen_seq = 0; // the last freeze marker's seq
  update_channel updates;
  std::vector<update_msg> scores; // score/ since the last freeze, in seq order
  ranking::published_ranks ranks;
  // follow/ feeds of this shard's players, by ranking::player_id.
  std::unordered_map<std::string, follow_state> follows;

  static const char* name;

  ranking::board_part* find(const std::string& board);
  const ranking::board_part* find(const std::string& board) const;
  bool board_known(const std::string& board) const;
  // This shard's live tree of the board plus every other shard's part in
  // the merged view.
  ranking::merged_ranking ranking(const std::string& board, const ranking::board_part* part) const;
  // The player's key in the merged view, if it is in it.
  std::optional<ranking::rank_key> key_in_view(const std::string& board, const std::string& player,
                                               const ranking::global_view& in) const;
  // What view_keys takes as the player's key when it recorded no change
  // since a view cut at `view_seq`: its live key, or its key in the season
  // that was current at the cut if the board rolled over since.
  static std::optional<ranking::rank_key> latest_key(const ranking::board_part* part,
                                                     std::string_view player, uint64_t view_seq);
};

shard_handle::behavior_type shard_actor(shard_handle::stateful_pointer<shard_state> self,
                                        uint32_t index, merge_handle merge,
                                        outbox_factory make_outbox);

} // namespace lb::actors
