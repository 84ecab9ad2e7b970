#pragma once

#include "schemas/types.hpp"

namespace lb::ranking {

struct board_config {
  schemas::board_order order = schemas::board_order::desc;
  schemas::score_operator op = schemas::score_operator::best;
};

} // namespace lb::ranking
