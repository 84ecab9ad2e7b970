// Vocabulary shared by every layer: board order, score operators, error
// codes, and the optional per-entry metadata. Nothing here knows msgpack.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lb::schemas {

enum class board_order : uint8_t { desc, asc };
enum class score_operator : uint8_t { best, set, incr, decr };

enum class error_code : uint8_t {
  bad_request,
  unknown_op,
  not_found,
  conflict,
  overloaded,
  unauthorized,
  internal,
};

const char* to_string(board_order x);
const char* to_string(score_operator x);
const char* to_string(error_code x);
std::optional<board_order> parse_board_order(std::string_view s);
std::optional<score_operator> parse_score_operator(std::string_view s);

// A closed season of a board (PROTOCOL.md "Seasons"): when it ran, in wall
// time and in the event stream. `start_ms` is 0 when unknown (a board's first
// season started before anything set its clock).
struct season_span {
  uint32_t season = 1;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  uint64_t start_seq = 0; // the first event it could hold: the previous rollover's seq + 1
  uint64_t end_seq = 0;   // the rollover's seq (the season holds events before it)
};

struct error {
  error_code code = error_code::internal;
  std::string message;
};

// `meta` is opaque to the service; clients may send it as str or bin and
// get back the same msgpack type.
struct meta_value {
  std::string bytes;
  bool is_bin = false;
  friend bool operator==(const meta_value& a, const meta_value& b) {
    return a.is_bin == b.is_bin && a.bytes == b.bytes;
  }
};

// Seasons: how many closed seasons a board keeps unless configured.
inline constexpr uint32_t default_keep_seasons = 1;
inline constexpr uint32_t max_keep_seasons = 1000;

// Limits from PROTOCOL.md sections 2 and 3.
inline constexpr std::size_t max_board_len = 64;
inline constexpr std::size_t max_player_len = 128;
// An ingest frame's `source` (PROTOCOL.md section 4): the board name rules.
inline constexpr std::size_t max_source_len = 64;
inline constexpr std::size_t max_meta_len = 256;
inline constexpr std::size_t max_batch_items = 1000;
inline constexpr uint32_t max_top_limit = 1000;
inline constexpr uint32_t default_top_limit = 10;
inline constexpr uint32_t max_radius = 100;
inline constexpr uint32_t default_radius = 5;
inline constexpr std::size_t max_ranks_players = 100;
inline constexpr std::size_t default_max_frame = 1 << 20;
// `boards` pages (PROTOCOL.md "Paging"): a board_info is at most ~115 bytes
// on the wire, so a full page stays near 115 KB, a ninth of the default
// max_frame, however many boards there are.
inline constexpr uint32_t max_boards_limit = 1000;
inline constexpr uint32_t default_boards_limit = 1000;

// A `top` cursor (PROTOCOL.md "Paging"): one entry's place in its board's
// order, i.e. its rank key (actors/ranking/rank_key.hpp: the order-folded
// score and subscore, then the seq that gave the entry its value). Every
// value is a valid place, so a cursor needs no check beyond its format.
// On the wire it is a str of top_cursor_len lowercase hex digits, which
// clients treat as opaque.
struct top_cursor {
  uint64_t primary = 0;
  uint64_t secondary = 0;
  uint64_t seq = 0;
  friend bool operator==(const top_cursor& a, const top_cursor& b) {
    return a.primary == b.primary && a.secondary == b.secondary && a.seq == b.seq;
  }
  friend bool operator!=(const top_cursor& a, const top_cursor& b) { return !(a == b); }
};
inline constexpr std::size_t top_cursor_len = 48;
std::string to_string(const top_cursor& c);
// The cursor a str holds, or nothing when it is not one (length, digits).
std::optional<top_cursor> parse_top_cursor(std::string_view s);

// Name rules; each returns an empty string when the name is valid, else why not.
std::string check_board_name(std::string_view s);
std::string check_player_name(std::string_view s);
std::string check_source_name(std::string_view s);

} // namespace lb::schemas
