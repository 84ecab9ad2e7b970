// Update stream messages (PROTOCOL.md section 5): each is a topic frame and a
// msgpack map body. Subscribers filter topics by prefix, so every topic ends
// at a `/` except rank/'s and follow/'s, which end with the player's name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/reply.hpp"

namespace lb::schemas {

// `top/<board>/`: the board's best entries after a merge that changed them.
struct top_update {
  std::string board;
  uint64_t seq = 0; // the last event the merge includes
  uint64_t total = 0;
  std::vector<entry_view> entries; // as in a `top` reply
};

// `rank/<board>/<player>`. Names are views: the update is encoded at once,
// on the hot path, without copying them.
struct rank_update {
  std::string_view board;
  std::string_view player;
  int64_t score = 0;
  int64_t subscore = 0;
  std::optional<uint64_t> rank;      // nothing once removed
  std::optional<uint64_t> prev_rank; // nothing when new
  uint64_t seq = 0;                  // the last event the merge includes
};

// `score/<board>/`: one accepted event that changed an entry.
struct score_update {
  uint64_t seq = 0; // the event's
  std::string_view board;
  std::string_view player;
  int64_t score = 0;
  int64_t subscore = 0;
};

// `follow/<board>/<player>`: the player as one merged view shows it, sent
// when somebody subscribes to the topic and after every merge that changes
// the player's rank, score or subscore (PROTOCOL.md section 5, extension A).
struct follow_update {
  std::string_view board;
  std::string_view player;
  std::optional<uint64_t> rank;      // nothing when not on the board
  std::optional<uint64_t> prev_rank; // the rank in the topic's previous message
  std::optional<int64_t> score;      // nothing when not on the board
  std::optional<int64_t> subscore;
  uint64_t total = 0; // entries on the board in the view, 0 for an unknown board
  uint64_t seq = 0;   // the view's
};

// `season/<board>/`: a season closed; its final standings, so that a rewards
// service grants prizes from them without racing the rollover.
struct season_update {
  std::string board;
  season_span span;
  uint64_t total = 0;
  std::vector<entry_view> entries; // the closed season's top K, as in `top`
};

// `ack/<source>/`: what became of one ingest frame that named its source
// (PROTOCOL.md section 4), once its accepted events are durable.
struct ack_error {
  std::optional<uint32_t> item; // the index in the batch; nothing: the whole frame
  error err;
};

inline constexpr std::size_t max_ack_errors = 100;

struct ingest_ack {
  std::string source;
  uint64_t accepted = 0; // events written to the log
  uint64_t rejected = 0; // items or frames refused
  std::optional<uint64_t> first_seq;
  std::optional<uint64_t> last_seq;
  std::vector<ack_error> errors; // the first max_ack_errors
  bool errors_truncated = false; // more were refused than `errors` lists
  bool memory_full = false;      // past --max-memory: accepted events add no entry

  // Counts `n` refused items (or the frame: no item) and keeps their error
  // if there is room.
  void refuse(std::optional<uint32_t> item, error e, uint64_t n = 1);
};

std::string top_topic(std::string_view board);
std::string rank_topic(std::string_view board, std::string_view player);
std::string score_topic(std::string_view board);
std::string follow_topic(std::string_view board, std::string_view player);
std::string season_topic(std::string_view board);

// The board and player a follow/ subscription names, if the prefix is
// exactly `follow/<board>/<player>` with valid names (types.hpp): only
// those make the service produce a feed.
struct follow_target {
  std::string board;
  std::string player;
};
std::optional<follow_target> parse_follow_prefix(std::string_view prefix);

std::string ack_topic(std::string_view source);

std::string encode_update(const top_update& u);
std::string encode_update(const rank_update& u);
std::string encode_update(const score_update& u);
std::string encode_update(const follow_update& u);
std::string encode_update(const season_update& u); // body of season_topic(u.board)

// Adds `stream_seq: n` to an encoded map body (extension C), in place: the
// map header gets one more entry (growing from fixmap to map16 or map16 to
// map32 when it must) and the pair goes at the end. False, and the body
// unchanged, if it does not start with a map header or the map is full.
bool append_stream_seq(std::string& body, uint64_t n);

std::string encode_update(const ingest_ack& a);

} // namespace lb::schemas
