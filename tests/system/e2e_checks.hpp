// Checking the service's replies in the e2e tests: without the model, the
// shape and invariants that hold at any moment whatever the merge timing
// (on worker threads, collected in a client_log); with it, the replayed
// events and the final state once the merges have caught up (on the main
// thread, as doctest checks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/system/e2e_client.hpp"
#include "tests/system/e2e_request.hpp"
#include "tests/system/reference_model.hpp"

namespace lb::e2e {

// Collects problems from worker threads (doctest asserts stay on the main
// thread); keeps the first few of each client's messages.
struct client_log {
  std::vector<event> events;
  std::vector<std::string> failures;
  size_t failure_count = 0;
  size_t replies = 0;
  // `ranks` replies whose entries come from different states; counted apart
  // so that they do not hide other failures (see the test "top, around and
  // ranks read one merged view").
  std::string mixed_view_sample;
  size_t mixed_view_count = 0;

  void fail(std::string what) {
    if (failures.size() < 10)
      failures.push_back(std::move(what));
    ++failure_count;
  }
};

struct mixed_view_error : reply_error {
  using reply_error::reply_error;
};

// Records the exception of a failed check.
void record(client_log& log, const std::string& where, const std::exception& e);

inline const std::set<std::string> submit_keys = {"board",      "player",    "score",   "subscore",
                                                  "rank",       "prev_rank", "changed", "total",
                                                  "percentile", "seq"};
inline const std::set<std::string> entry_keys = {"rank", "player", "score", "subscore", "meta"};

std::set<std::string> with(std::set<std::string> keys, std::initializer_list<const char*> more);

// The order of every board the load touches: true for asc.
using board_orders = std::map<std::string, bool>;

// Entries of `top` / `around`: consecutive ranks from `first_rank`, each no
// better than the one before it.
void check_run(const std::vector<entry>& es, uint64_t first_rank, bool asc);

// Checks one reply of the mixed loads and records the events it acknowledges.
void check_reply(const request& r, const reply& rep, const board_orders& orders,
                 const std::string& origin, client_log& log);

// Turns the workers' problems into doctest failures; returns every event.
std::vector<event> gather(const std::vector<client_log>& logs, size_t expected_replies);
// Replays the events through `m` (reference_model.hpp); each disagreement
// fails.
void check_replay(const std::vector<event>& events, model& m);

// Up to `max` entries, one a line, for failure messages.
std::string show(const std::vector<entry>& es, size_t max = 12);

// The boards, stats and every board's entries and ranks against the model,
// after server::settle(). `players`: everyone the load may have used (those
// absent must be not_found).
void check_final_state(client& c, const model& m, const std::vector<std::string>& players);

} // namespace lb::e2e
