// The bodies of a snapshot file's records (docs/EVENT-LOG.md): a head, then
// per board its configuration followed by its entries in chunks, then an end
// record that makes a cut-short file detectable. msgpack maps with string
// keys, like the event log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "schemas/types.hpp"

namespace lb::schemas {

struct snapshot_head {
  uint64_t seq = 0;    // the last event the snapshot includes
  int64_t time_ms = 0; // when it was taken, ms since the Unix epoch
  uint64_t boards = 0;
  uint64_t entries = 0;
};

// A board's settings and its current season. `anchor_ms` is the time its
// schedule counts the next rollover from (the current season's start, or
// when the schedule was set, whichever is later).
struct snapshot_board {
  std::string board;
  board_order order = board_order::desc;
  score_operator op = score_operator::best;
  uint64_t total = 0; // entries that follow for this board
  std::string schedule;
  uint32_t keep = default_keep_seasons;
  uint32_t season = 1;
  int64_t season_start_ms = 0;
  uint64_t season_start_seq = 0;
  int64_t anchor_ms = 0;
};

// A kept closed season of the board named by the last snapshot_board
// record; its entries follow in chunks, like the board's.
struct snapshot_season {
  season_span span;
  uint64_t total = 0;
  // The board's settings when the season closed (its order reads the keys).
  board_order order = board_order::desc;
  score_operator op = score_operator::best;
};

struct snapshot_entry {
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  uint64_t seq = 0; // the seq at which the entry reached its value (tie-break)
  std::optional<meta_value> meta;
};

// At most max_snapshot_chunk entries of the board named by the last
// snapshot_board record.
struct snapshot_chunk {
  std::vector<snapshot_entry> entries;
};
inline constexpr std::size_t max_snapshot_chunk = 1000;

struct snapshot_end {
  uint64_t boards = 0;
  uint64_t entries = 0;
};

using snapshot_item
  = std::variant<snapshot_head, snapshot_board, snapshot_chunk, snapshot_end, snapshot_season>;

void append_snapshot_item(std::string& out, const snapshot_item& item);

// Never throws; on failure the string says what is wrong.
std::variant<snapshot_item, std::string> decode_snapshot_item(const char* data, std::size_t size);

} // namespace lb::schemas
