// Which shard owns a player of a board. Every component that routes a player
// (gateway, ingress, readers) uses this one function, so they always agree.
#pragma once

#include <cstdint>
#include <string_view>

namespace lb::ranking {

uint32_t owner_shard(std::string_view board, std::string_view player, uint32_t shards);

} // namespace lb::ranking
