// Update stream messages (PROTOCOL.md section 5): each is a topic frame and a
// msgpack map body. Subscribers filter topics by prefix, so every topic ends
// at a `/` except rank/'s, which ends with the player's name.
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
std::string ack_topic(std::string_view source);

std::string encode_update(const top_update& u);
std::string encode_update(const rank_update& u);
std::string encode_update(const score_update& u);
std::string encode_update(const ingest_ack& a);

} // namespace lb::schemas
