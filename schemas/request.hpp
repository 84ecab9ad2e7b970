// Decoded requests: one named struct per op of PROTOCOL.md section 3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "schemas/types.hpp"

namespace lb::schemas {

struct submit_req {
  std::string board;
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  std::optional<meta_value> meta;
  // Set by the service, never by a client: the event came while the service
  // was past --max-memory, so it may update an entry but not add one. The
  // event log keeps it, and replays follow it.
  bool existing_only = false;
};

// One bad item fails only itself, so each item is a submit or its error.
using batch_item = std::variant<submit_req, error>;

struct batch_req {
  std::vector<batch_item> items;
};

// Reads are exact unless they say `exact: false` (PROTOCOL.md
// "Consistency"): then they may answer from the latest merged view.
// `season` (all four reads): a closed season's number; nothing, the current
// season.
struct rank_req {
  std::string board;
  std::string player;
  bool exact = true;
  std::optional<uint32_t> season{};
};

// A page starts at `offset` or, when `after` is set (then `offset` is 0),
// at the first entry ranking strictly after that cursor (PROTOCOL.md
// "Paging").
struct top_req {
  std::string board;
  uint32_t limit = default_top_limit;
  uint64_t offset = 0;
  bool exact = true;
  std::optional<top_cursor> after{};
  std::optional<uint32_t> season{};
};

struct around_req {
  std::string board;
  std::string player;
  uint32_t radius = default_radius;
  bool exact = true;
  std::optional<uint32_t> season{};
};

struct ranks_req {
  std::string board;
  std::vector<std::string> players;
  bool exact = true;
  std::optional<uint32_t> season{};
};

struct remove_req {
  std::string board;
  std::string player;
};

// `archive`: close the current season (kept, readable) instead of dropping
// its entries.
struct reset_req {
  std::string board;
  bool archive = false;
};

// `schedule`: a cron expression in UTC (schemas/cron.hpp), checked at decode;
// an empty one removes the board's schedule.
struct configure_req {
  std::string board;
  std::optional<board_order> order;
  std::optional<score_operator> op;
  std::optional<std::string> schedule{};
  std::optional<uint32_t> keep{}; // 1..max_keep_seasons
};

// A board's seasons: the kept closed ones and the current one.
struct seasons_req {
  std::string board;
};

// A page of at most `limit` boards in name order, starting after the board
// named `after` (a valid board name, which need not exist) or at the first.
struct boards_req {
  bool exact = true;
  uint32_t limit = default_boards_limit;
  std::optional<std::string> after{};
};
struct stats_req {};
struct ping_req {};

using request_body
  = std::variant<submit_req, batch_req, rank_req, top_req, around_req, ranks_req, remove_req,
                 reset_req, configure_req, boards_req, stats_req, ping_req, seasons_req>;

// A decoded request body. `id` is set whenever the body was a map holding a
// uint64 `id`, even if decoding failed later, so the error reply can echo it.
// `source` likewise, on ingest only: set whenever the body was a map holding
// one valid `source` (PROTOCOL.md section 4), so that the frame is
// acknowledged on `ack/<source>/` even when it is refused.
struct decoded_request {
  std::optional<uint64_t> id;
  std::optional<std::string> source;
  std::variant<request_body, error> body;
  bool ok() const { return body.index() == 0; }
};

// Deepest container nesting a frame may have (a batch needs 3: map, items
// array, item map); deeper frames are bad_request.
inline constexpr unsigned max_nesting_depth = 8;

// Checks, without allocating, that [data, data+size) holds exactly one
// well-formed msgpack object nested at most max_nesting_depth deep, whose
// container and str/bin/ext headers never claim more than the bytes that
// follow. Returns an empty string when it does, else what is wrong.
std::string check_frame(const char* data, std::size_t size);

// Decodes one request frame (PROTOCOL.md sections 2, 3 and 6). Never throws;
// the msgpack parser is bounded so a frame cannot allocate more than a small
// multiple of its own size.
decoded_request decode_request(const char* data, std::size_t size);

// Decodes one ingest frame (section 4): a submit map or a batch map, with op.
// Any other op is a bad_request here.
decoded_request decode_ingest(const char* data, std::size_t size);

} // namespace lb::schemas

namespace lb::schemas {

// Encodes a request (with `op`), for clients, tools and tests; a non-empty
// `source` (an ingest frame's) is written after `id`.
std::string encode_request(const std::optional<uint64_t>& id, const request_body& body,
                           std::string_view source = {});

} // namespace lb::schemas
