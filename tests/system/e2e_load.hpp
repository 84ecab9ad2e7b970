// Load for the e2e tests: many clients at once, each checking its replies
// (e2e_checks.hpp), and the random requests they send.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "tests/system/e2e_checks.hpp"
#include "tests/system/e2e_client.hpp"
#include "tests/system/e2e_request.hpp"

namespace lb::e2e {

// ---------------------------------------------------------------------------
// Running many clients.

// Sends `count` requests from next() through one DEALER with at most `depth`
// in flight, checking each reply; replies are matched by id, whatever their
// order.
void run_client(zmq::context_t& ctx, const std::string& endpoint, size_t count, size_t depth,
                const std::function<request()>& next, const board_orders& orders,
                const std::string& name, client_log& log);

// One request and its check, on a client the caller keeps.
void call_checked(client& c, const request& r, const board_orders& orders, const std::string& name,
                  client_log& log);

// Runs body(i, log) on n threads at once and returns their logs.
std::vector<client_log> run_threads(size_t n, const std::function<void(size_t, client_log&)>& fn);

// ---------------------------------------------------------------------------
// Generating load.

// Player names: mostly short, some multi-byte UTF-8, one of the longest allowed.
std::vector<std::string> player_pool(size_t n);

struct board_spec {
  std::string name;
  std::optional<std::string> order, oper; // as configured; nothing = default
};

// A random submit suited to the board's operator: small ranges so that ties
// and no-op submits are common; rare extremes to exercise saturation.
request random_submit(std::mt19937_64& rng, const board_spec& b,
                      const std::vector<std::string>& players, const std::string& tag);

// The mixed load of the 64-client test: events and reads over every board.
request random_request(std::mt19937_64& rng, const std::vector<board_spec>& bs,
                       const std::vector<std::string>& players, const std::string& tag);

board_orders orders_of(const std::vector<board_spec>& bs);

// Configures every board (recording the events) and waits for the merge,
// so that reads during the load find every board.
void configure_all(server& s, const std::vector<board_spec>& bs, std::vector<event>& events);

uint64_t stats_seq(client& c);
std::string digest(client& c);

} // namespace lb::e2e
