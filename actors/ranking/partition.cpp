#include "actors/ranking/partition.hpp"

#include <cstring>
#include <string>

#include <xxhash.h>

namespace lb::ranking {

uint32_t shard_map::owner(std::string_view board, std::string_view player) const {
  // Board names cannot hold a NUL, so hashing board + NUL + player is
  // unambiguous. Names are short (<= 64 and 128 bytes): one stack buffer.
  char buf[256];
  std::string_view key;
  std::string heap;
  if (board.size() + 1 + player.size() <= sizeof buf) {
    std::memcpy(buf, board.data(), board.size());
    buf[board.size()] = '\0';
    if (!player.empty()) // a board's own key passes an empty view, whose data() may be null
      std::memcpy(buf + board.size() + 1, player.data(), player.size());
    key = {buf, board.size() + 1 + player.size()};
  } else {
    heap.append(board).push_back('\0');
    heap.append(player);
    key = heap;
  }
  uint64_t h = XXH3_64bits(key.data(), key.size());
  // Multiply-shift maps the hash onto [0, shards) without the bias of `%`.
  return static_cast<uint32_t>((static_cast<unsigned __int128>(h) * shards_) >> 64);
}

} // namespace lb::ranking
