// Requests as the e2e tests think of them: one struct that knows how to
// become a body and that is kept next to its reply; and the events the
// service acknowledged, as the reference model (reference_model.hpp)
// replays them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/system/e2e_client.hpp"

namespace lb::e2e {

struct request {
  std::string op;
  std::string board, player;
  int64_t score = 0;
  std::optional<int64_t> subscore;
  std::optional<meta_v> meta;
  bool exact = false;
  uint32_t limit = 10;
  uint64_t offset = 0;
  uint32_t radius = 5;
  std::vector<std::string> players;
  std::vector<request> items;             // batch: submits
  std::optional<std::string> order, oper; // configure

  body to_body() const;
};

request submit_req(std::string board, std::string player, int64_t score,
                   std::optional<int64_t> sub = std::nullopt,
                   std::optional<meta_v> meta = std::nullopt);
request simple_req(std::string op, std::string board, std::string player = "");
request configure_req(std::string board, std::optional<std::string> order,
                      std::optional<std::string> oper);

// One line for messages: op, board/player and a submit's values.
std::string describe(const request& r);

// An event as the service acknowledged it.
struct event {
  uint64_t seq = 0;
  request req; // a submit, remove, reset or configure
               // What the reply said: submit score/subscore/changed/new, remove and reset
               // `removed` (0/1 for remove).
  int64_t score = 0, subscore = 0;
  bool changed = false, was_new = false;
  uint64_t rank = 0, total = 0;      // a submit's, exact as of its seq (PROTOCOL.md v2)
  std::optional<uint64_t> prev_rank; // a submit's: the rank before it, if it was on the board
  uint64_t removed = 0;
  std::string origin; // who sent it, for messages
};

} // namespace lb::e2e
