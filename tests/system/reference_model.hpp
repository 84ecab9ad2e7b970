// The reference model of the e2e tests: what the service should answer,
// written from PROTOCOL.md section 3 ("Ordering and ties", "Operators")
// alone, with std::map and sorting. The concurrent tests replay the events
// the service acknowledged through it in seq order and compare each reply
// with the model at that seq, then the whole final state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/system/e2e_client.hpp"
#include "tests/system/e2e_request.hpp"

namespace lb::e2e {

struct model_entry {
  int64_t score = 0, subscore = 0;
  uint64_t seq = 0; // when the entry reached (score, subscore)
  std::optional<meta_v> meta;
};

struct model_board {
  std::string order = "desc";
  std::string oper = "best";
  std::map<std::string, model_entry> entries;

  // Strictly better value (score, then subscore) under the board's order.
  bool better(int64_t s1, int64_t sub1, int64_t s2, int64_t sub2) const;
  // Whether a ranks before b.
  bool before(const model_entry& a, const model_entry& b) const;
  // Every entry, best first, with its rank.
  std::vector<entry> ranked() const;
  // The player's rank (1 = best), 0 when absent. O(entries).
  uint64_t rank_of(const std::string& player) const;
};

struct submit_outcome {
  int64_t score = 0, subscore = 0;
  bool changed = false, was_new = false;
};

struct model {
  std::map<std::string, model_board> boards;

  void configure(const request& r);
  submit_outcome submit(const request& r, uint64_t seq);
  bool remove(const request& r);
  uint64_t reset(const request& r); // how many entries went
};

// Replays `events` in seq order through `m` and returns every disagreement
// between a reply and the model, plus duplicate seqs. A submit's rank,
// prev_rank and total must be exact as of its seq.
std::vector<std::string> replay(std::vector<event> events, model& m);

} // namespace lb::e2e
