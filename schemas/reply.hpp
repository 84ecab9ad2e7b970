// Replies: one named struct per op, and their msgpack encoders.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "schemas/types.hpp"

namespace lb::schemas {

struct entry_view {
  uint64_t rank = 0;
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  std::optional<meta_value> meta;
};

struct submit_reply {
  std::string board;
  std::string player;
  int64_t score = 0;
  int64_t subscore = 0;
  uint64_t rank = 0;
  std::optional<uint64_t> prev_rank;
  bool changed = false;
  uint64_t total = 0;
  uint64_t seq = 0;
};

// The share of the board ranked below an entry, in percent (PROTOCOL.md
// "Seasons"): 100 * (total - rank) / total, 0 on an empty board. What tiered
// rewards are computed from; in `submit`, `batch` and `rank` replies.
double percentile(uint64_t rank, uint64_t total);

using batch_result = std::variant<submit_reply, error>;

struct batch_reply {
  std::vector<batch_result> results;
};

// Reads carry `seq`: the last event the answer reflects.
// A read of a closed season says which (`season`); then `seq` is the
// season's end_seq.
struct rank_reply {
  std::string board;
  entry_view entry; // encoded flat: player, score, subscore, meta, rank
  uint64_t total = 0;
  uint64_t seq = 0;
  std::optional<uint32_t> season{};
};

// `top`, `around` and `ranks` share one shape. `top` alone also says where
// its next page starts (`paged`): `next`, the cursor of the page's last entry
// when entries follow it, nil when the page reaches the end of the board.
struct entries_reply {
  std::string board;
  uint64_t total = 0;
  uint64_t seq = 0;
  std::vector<entry_view> entries;
  bool paged = false;
  std::optional<top_cursor> next{};
  std::optional<uint32_t> season{};
};

struct remove_reply {
  bool removed = false;
  uint64_t seq = 0;
};

// `season`: the closed season's number, when the reset archived it.
struct reset_reply {
  uint64_t removed = 0;
  uint64_t seq = 0;
  std::optional<uint32_t> season{};
};

// `schedule`: nothing when the board has none.
struct configure_reply {
  std::string board;
  board_order order = board_order::desc;
  score_operator op = score_operator::best;
  uint64_t seq = 0;
  std::optional<std::string> schedule{};
  uint32_t keep = default_keep_seasons;
};

struct board_info {
  std::string board;
  uint64_t total = 0;
  board_order order = board_order::desc;
  score_operator op = score_operator::best;
  uint32_t season = 1;                   // the current season's number
  std::optional<std::string> schedule{}; // nothing: no schedule
  uint32_t keep = default_keep_seasons;
};

// One page of boards in name order. `next` is the last listed board's name
// when more boards follow it (nil on the last page); `total`, the number of
// boards on all pages, when it is cheap to know (the merged view counts
// them; an exact reply leaves it out).
struct boards_reply {
  uint64_t seq = 0;
  std::vector<board_info> boards;
  std::optional<std::string> next{};
  std::optional<uint64_t> total{};
};

struct shard_stats {
  uint32_t shard = 0;
  uint64_t entries = 0;
  uint64_t mailbox = 0;
  uint64_t refused_new = 0; // not in the reply: summed into clients.overloaded_memory
};

// The event log as `stats` shows it.
struct log_stats {
  std::string fsync;        // the policy: group, always or none
  uint64_t durable_seq = 0; // last event on disk under the policy
  uint64_t bytes = 0;       // written since start
  uint64_t syncs = 0;       // fdatasync calls since start
  uint64_t refused = 0;     // events refused because the log could not be written
};

// How well the periodic merge keeps its interval: a tick that finds the
// previous merge still running is skipped, so `count` per second below
// 1000 / interval_ms means merges fall behind.
struct merge_timing {
  uint64_t count = 0;   // merges started by the timer and completed
  uint64_t last_us = 0; // the last one: from its tick to its view
  uint64_t max_us = 0;  // the slowest of the last 256 (about 13 s at 50 ms)
};

// How the service kept its clients within bounds (docs/PROTOCOL.md, stats).
struct client_stats {
  uint64_t connections = 0;         // open now, on all three sockets
  uint64_t refused_connections = 0; // closed past --max-clients
  uint64_t refused_keys = 0;        // CURVE handshakes refused: unknown key or role
  uint64_t unauthorized = 0;        // requests past their key's role
  uint64_t overloaded_busy = 0;     // refused: the connection's share of requests in flight
  uint64_t overloaded_unread = 0;   // refused: the connection left too many replies unread
  uint64_t overloaded_memory = 0;   // new entries and boards refused past --max-memory
  uint64_t reply_backlog_bytes = 0; // replies waiting for slow readers now
  uint64_t replies_dropped = 0;     // replies that could not be queued
  uint64_t replies_orphaned = 0;    // replies to connections already closed
  uint64_t bad_envelopes = 0;       // requests dropped: envelope too large to echo
};

// What the ingest frames that named one `source` came to (PROTOCOL.md
// section 4): the sums of their acknowledgements.
struct source_counts {
  uint64_t frames = 0;
  uint64_t accepted = 0; // events written to the log
  uint64_t rejected = 0; // items or frames refused
};

// `stats` names at most this many sources; those seen after them are summed
// under `other_sources` (not a valid source name).
inline constexpr std::size_t max_stats_sources = 1024;
inline constexpr const char* other_sources = "*other*";

struct stats_reply {
  uint64_t seq = 0;
  std::vector<shard_stats> shards;
  uint32_t merge_interval_ms = 0;
  uint64_t last_merge_seq = 0;
  uint64_t merge_age_ms = 0;
  std::string digest;
  uint64_t boards = 0;
  uint64_t entries = 0;
  uint64_t requests = 0;        // request frames received
  uint64_t rejected = 0;        // request frames answered with an error at decode
  uint64_t ingest_events = 0;   // ingest events accepted
  uint64_t ingest_rejected = 0; // ingest frames or items dropped as bad
  // By source, in name order (other_sources among them).
  std::vector<std::pair<std::string, source_counts>> ingest_sources;
  uint64_t uptime_ms = 0;
  log_stats log;
  uint64_t updates_published = 0; // update messages handed to the PUB socket
  uint64_t updates_dropped = 0;   // dropped before it: the publisher was behind
  merge_timing merges;
  client_stats clients;
};

// One season in a `seasons` reply: the current one has no end (nil
// end_ms and end_seq).
struct season_info {
  season_span span;
  bool current = false;
  uint64_t total = 0;
};

// A board's seasons, oldest first, the current one last; `next_ms`: when
// its schedule closes the current one (nothing without a schedule).
struct seasons_reply {
  std::string board;
  uint32_t current = 1;
  std::vector<season_info> seasons;
  std::optional<std::string> schedule{};
  std::optional<int64_t> next_ms{};
  uint32_t keep = default_keep_seasons;
  uint64_t seq = 0;
};

struct pong_reply {};

using reply_body = std::variant<error, submit_reply, batch_reply, rank_reply, entries_reply,
                                remove_reply, reset_reply, configure_reply, boards_reply,
                                stats_reply, pong_reply, seasons_reply>;

// Encodes a full reply map: `ok`, `id` when given, then the body's keys.
std::string encode_reply(const std::optional<uint64_t>& id, const reply_body& body);
// The same, appended to `out` (a buffer that gathers many).
void append_reply(std::string& out, const std::optional<uint64_t>& id, const reply_body& body);

} // namespace lb::schemas
