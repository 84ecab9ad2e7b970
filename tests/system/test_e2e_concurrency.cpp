// The e2e tests of many concurrent clients: every operator, ties, one merged
// view, resets under load and the seed scenario, each checked against the
// reference model (see test_e2e.cpp).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "tests/system/e2e_checks.hpp"
#include "tests/system/e2e_client.hpp"
#include "tests/system/e2e_load.hpp"
#include "tests/system/reference_model.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

// ===========================================================================
// Many concurrent clients, every operator, checked against the model.

TEST_CASE("64 pipelining clients on every operator agree with the model") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"mix.desc.best", "desc", "best"},
                                      {"mix.asc.best", "asc", "best"},
                                      {"mix.desc.set", "desc", "set"},
                                      {"mix.asc.set", "asc", "set"},
                                      {"mix.desc.incr", "desc", "incr"},
                                      {"mix.asc.decr", "asc", "decr"},
                                      {"mix.defaults", std::nullopt, std::nullopt}};
  const auto players = player_pool(40);
  const auto orders = orders_of(bs);
  std::vector<event> events;
  configure_all(s, bs, events);

  const size_t clients = 64, per_client = scaled(1500);
  auto logs = run_threads(clients, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{1000 + i};
    size_t n = 0;
    auto next = [&] {
      return random_request(rng, bs, players, "c" + std::to_string(i) + "-" + std::to_string(n++));
    };
    run_client(s.ctx(), s.requests(), per_client, 8 + i % 9, next, orders,
               "client " + std::to_string(i), log);
  });
  auto acked = gather(logs, clients * per_client);
  events.insert(events.end(), acked.begin(), acked.end());

  model m;
  check_replay(events, m);
  s.settle();
  client c(s.ctx(), s.requests());
  check_final_state(c, m, players);
  uint64_t max_seq = 0;
  for (auto& e : events)
    max_seq = std::max(max_seq, e.seq);
  CHECK(stats_seq(c) == max_seq);
}

// ===========================================================================
// Ties: equal values rank by who reached them first.

TEST_CASE("ties are broken by the seq at which the value was reached") {
  server s{make_server_options(4, 20)};
  const std::vector<board_spec> bs
    = {{"ties.best", "desc", "best"}, {"ties.asc", "asc", "best"}, {"ties.set", "desc", "set"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  const auto players = player_pool(60);

  // Eight clients race to give every player the same value, in random order.
  // On ties.best some players first get a lower value (90), and every tenth
  // gets a better (8) or worse (6) subscore; ties.asc is the same race on an
  // asc board. On ties.set half the clients set 10 and half 20 for each
  // player, so the value flips and the last change to it is what counts.
  const size_t clients = 8;
  auto logs = run_threads(clients, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{7 + i};
    std::vector<request> plan;
    for (size_t p = 0; p < players.size(); ++p) {
      auto& name = players[p];
      int64_t sub = p % 10 == 0 ? 8 : p % 10 == 1 ? 6 : 7;
      if (i == p % clients)
        plan.push_back(submit_req("ties.best", name, 90, 7));
      plan.push_back(submit_req("ties.best", name, 100, sub));
      plan.push_back(submit_req("ties.asc", name, -5, sub));
      plan.push_back(submit_req("ties.set", name, 10 + 10 * static_cast<int64_t>((i + p) % 2)));
    }
    std::shuffle(plan.begin(), plan.end(), rng);
    size_t k = 0;
    run_client(
      s.ctx(), s.requests(), plan.size(), 12, [&] { return plan[k++]; }, orders_of(bs),
      "client " + std::to_string(i), log);
  });
  size_t expected = 0;
  for (size_t i = 0; i < clients; ++i)
    for (size_t p = 0; p < players.size(); ++p)
      expected += 3 + (i == p % clients);
  auto acked = gather(logs, expected);
  events.insert(events.end(), acked.begin(), acked.end());

  // Without the model: on ties.best exactly one submit per player reached its
  // final value, and the order among equal values is the order of those seqs.
  std::map<std::string, uint64_t> reached;
  std::map<std::string, int64_t> final_sub;
  for (auto& e : events)
    if (e.req.board == "ties.best" && e.changed && e.score == 100) {
      CHECK_MESSAGE(!reached.count(e.req.player), e.req.player << " changed twice at 100");
      reached[e.req.player] = e.seq;
      final_sub[e.req.player] = e.subscore;
    }
  CHECK(reached.size() == players.size());
  std::vector<std::string> want(players);
  std::sort(want.begin(), want.end(), [&](const std::string& a, const std::string& b) {
    if (final_sub[a] != final_sub[b])
      return final_sub[a] > final_sub[b];
    return reached[a] < reached[b];
  });
  s.settle();
  client c(s.ctx(), s.requests());
  auto got = read_board(c, "ties.best", 1000);
  std::vector<std::string> got_names;
  for (auto& e : got)
    got_names.push_back(e.player);
  CHECK(got_names == want);

  model m;
  check_replay(events, m);
  check_final_state(c, m, players);
}

// ===========================================================================
// PROTOCOL.md: "top, around and ranks read the same merged view".

TEST_CASE("top, around and ranks read one merged view") {
  // With a merge interval of a minute, the view changes only when `stats`
  // asks for a cut: the test decides what the merged view holds.
  server s{make_server_options(7, 60000)};
  client c(s.ctx(), s.requests());
  REQUIRE(c.call(configure("friends", "desc", "set")).ok());
  std::vector<std::string> players;
  for (int i = 0; i < 20; ++i) {
    players.push_back("f" + std::to_string(i));
    REQUIRE(c.call(submit("friends", players.back(), 100 + i)).ok());
  }
  REQUIRE(c.call(stats()).ok()); // its cut merges all 20
  // Reverse the order; no merge follows (the interval is a minute).
  for (int i = 0; i < 20; ++i)
    REQUIRE(c.call(submit("friends", players[static_cast<size_t>(i)], 100 - i)).ok());

  auto t = c.call(top("friends", 100));
  REQUIRE(t.ok());
  auto view = t.entries();
  REQUIRE(view.size() == 20);
  check_run(view, 1, false);

  // `ranks` of the whole board is `top` of the same view.
  auto r = c.call(ranks("friends", players));
  REQUIRE(r.ok());
  CHECK_MESSAGE(r.entries() == view,
                "ranks of every player:" << show(r.entries(), 20)
                                         << "\ntop of the merged view:" << show(view, 20));

  // `around` is a window of that same order.
  auto a = c.call(around("friends", "f10", 2));
  REQUIRE(a.ok());
  auto me = std::find_if(view.begin(), view.end(),
                         [](const entry& e) { return e.player == "f10"; });
  REQUIRE(me != view.end());
  auto pos = me - view.begin();
  std::vector<entry> window(view.begin() + std::max<long>(0, pos - 2),
                            view.begin() + std::min<long>(20, pos + 3));
  CHECK_MESSAGE(a.entries() == window,
                "around f10:" << show(a.entries()) << "\ntop of the merged view:" << show(window));
}

// ===========================================================================
// Reset while others submit.

TEST_CASE("reset under load is one atomic event") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"r.best", "desc", "best"}, {"r.incr", "asc", "incr"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  const auto players = player_pool(30);
  const auto orders = orders_of(bs);

  const size_t submitters = 24, per_client = scaled(1000);
  std::atomic<size_t> running{submitters};
  auto logs = run_threads(submitters + 2, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{300 + i};
    if (i < submitters) {
      auto next = [&] {
        return random_submit(rng, bs[rng() % 2], players, "s" + std::to_string(i));
      };
      run_client(s.ctx(), s.requests(), per_client, 8, next, orders,
                 "submitter " + std::to_string(i), log);
      --running;
      return;
    }
    // One client resets, one reads, both until the submitters are done.
    bool resetter = i == submitters;
    client c(s.ctx(), s.requests());
    size_t n = 0;
    while (running > 0 || n < 3) {
      request r;
      if (resetter) {
        r = simple_req("reset", n % 7 == 6 ? "r.none" : bs[n % 2].name);
      } else {
        r = simple_req(n % 2 ? "top" : "rank", bs[n % 2].name, players[n % players.size()]);
        r.limit = 100;
      }
      ++n;
      call_checked(c, r, orders, resetter ? "resetter" : "reader", log);
      std::this_thread::sleep_for(2ms);
    }
  });
  size_t expected = 0, resets = 0, resets_that_removed = 0;
  for (size_t i = 0; i < logs.size(); ++i)
    expected += i < submitters ? per_client : logs[i].replies; // the last two count their own
  auto acked = gather(logs, expected);
  for (auto& e : acked) {
    if (e.req.op != "reset")
      continue;
    ++resets;
    resets_that_removed += e.removed > 0;
    CHECK(e.removed <= players.size());
    if (e.req.board == "r.none")
      CHECK(e.removed == 0);
  }
  CHECK(resets >= 3);
  CHECK(resets_that_removed > 0); // some resets did land in the middle of the load
  events.insert(events.end(), acked.begin(), acked.end());

  model m;
  check_replay(events, m); // includes each reset's exact `removed`
  s.settle();
  client c(s.ctx(), s.requests());
  check_final_state(c, m, players);
}

// ===========================================================================
// The seed scenario: 200 clients, 3 players.

TEST_CASE("200 concurrent clients writing the same 3 players") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"seed.best", "desc", "best"}, {"seed.incr", "desc", "incr"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  const std::vector<std::string> players = {"alpha", "beta", "gamma"};

  const size_t clients = 200, per_client = scaled(250);
  auto logs = run_threads(clients, [&](size_t i, client_log& log) {
    std::mt19937_64 rng{5000 + i};
    size_t n = 0;
    auto next = [&] {
      auto& p = players[rng() % 3];
      bool best = n++ % 2 == 0;
      return best ? submit_req("seed.best", p, static_cast<int64_t>(rng() % 1000000000),
                               static_cast<int64_t>(rng() % 10))
                  : submit_req("seed.incr", p, static_cast<int64_t>(1 + rng() % 1000));
    };
    run_client(s.ctx(), s.requests(), per_client, 4, next, orders_of(bs),
               "client " + std::to_string(i), log);
  });
  auto acked = gather(logs, clients * per_client);
  events.insert(events.end(), acked.begin(), acked.end());

  // The plain expectation, without the model: best = max, incr = sum.
  std::map<std::string, std::pair<int64_t, int64_t>> best;
  std::map<std::string, int64_t> sum;
  for (auto& e : acked) {
    auto& r = e.req;
    if (r.board == "seed.best")
      best[r.player] = std::max(best[r.player], std::make_pair(r.score, *r.subscore));
    else
      sum[r.player] += r.score;
  }
  s.settle();
  client c(s.ctx(), s.requests());
  for (auto& p : players) {
    auto r = c.call(rank("seed.best", p, true));
    REQUIRE(r.ok());
    CHECK(std::make_pair(r.i64("score"), r.i64("subscore")) == best[p]);
    r = c.call(rank("seed.incr", p, true));
    REQUIRE(r.ok());
    CHECK(r.i64("score") == sum[p]);
  }
  model m;
  check_replay(events, m);
  check_final_state(c, m, players);
}
