#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "schemas/reply.hpp"
#include "schemas/types.hpp"

namespace lb::ranking {

// A board's settings: what `configure` sets and `boards` shows. Copied with
// every changed part each round, so the schedule's text is shared.
struct board_config {
  schemas::board_order order = schemas::board_order::desc;
  schemas::score_operator op = schemas::score_operator::best;
  std::shared_ptr<const std::string> schedule; // a cron expression; null: none
  uint32_t keep = schemas::default_keep_seasons;
};

// The board as `boards` lists it; `season`: its current season's number.
inline schemas::board_info board_info_of(std::string name, uint64_t total, const board_config& c,
                                         uint32_t season) {
  schemas::board_info b{std::move(name), total, c.order, c.op};
  b.season = season;
  if (c.schedule)
    b.schedule = *c.schedule;
  b.keep = c.keep;
  return b;
}

} // namespace lb::ranking
