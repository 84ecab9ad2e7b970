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

std::string top_topic(std::string_view board);
std::string rank_topic(std::string_view board, std::string_view player);
std::string score_topic(std::string_view board);

std::string encode_update(const top_update& u);
std::string encode_update(const rank_update& u);
std::string encode_update(const score_update& u);

} // namespace lb::schemas
