// The boards of one shard rebuilt from a snapshot and the events after it,
// without actors: recovery builds one per shard and hands it to the shard
// actor; lb-replay builds one for the whole state. Events are applied exactly
// as a shard actor applies them (board_part), so a rebuild gives the state
// the live service had.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "actors/ranking/board_part.hpp"
#include "actors/ranking/global_view.hpp"
#include "schemas/event_record.hpp"
#include "schemas/snapshot_record.hpp"

namespace lb::storage {

class replay_state {
public:
  void apply(const schemas::event_record& ev);
  // A board's configuration from a snapshot; later restored entries go to it.
  void restore_board(const schemas::snapshot_board& b);
  void restore_entry(const std::string& board, const schemas::snapshot_entry& e);
  // A kept closed season of the board: begin, its entries this shard owns,
  // end (every shard gets the begin and the end, so all keep the same
  // seasons).
  void begin_season(const std::string& board, const schemas::snapshot_season& s);
  void restore_season_entry(const schemas::snapshot_entry& e);
  void end_season(const std::string& board);

  std::unordered_map<std::string, ranking::board_part>& boards() { return boards_; }
  uint64_t entries() const { return entries_; }

  // The boards as a view with this state as its only part (lb-replay: digest
  // and top). Freezes the trees; the state stays usable.
  ranking::global_view freeze(uint64_t seq);

private:
  std::unordered_map<std::string, ranking::board_part> boards_;
  uint64_t entries_ = 0;
  // The closed season being restored: a board part that rolls over at its end.
  std::optional<ranking::board_part> season_;
  schemas::season_span season_span_;
};

} // namespace lb::storage
