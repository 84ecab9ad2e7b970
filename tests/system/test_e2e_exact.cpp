// Exact by default (PROTOCOL.md v2, "Consistency"): the cases a game server
// meets, with a merge interval of a minute so that no merged view can help.
// Every reply must count every event acknowledged before its request.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

server_options no_merges(uint32_t shards) {
  return make_server_options(shards, 60000);
}

} // namespace

TEST_CASE("sequential submits, each lower than the last, rank 1 of 1, 2 of 2, 3 of 3") {
  for (uint32_t shards : {1u, 3u}) {
    INFO(shards << " shards");
    server s{no_merges(shards)};
    client c(s.ctx(), s.requests());
    for (int i = 0; i < 12; ++i) {
      auto r = c.call(submit("match", "p" + std::to_string(i), 1000 - i));
      REQUIRE(r.ok());
      CHECK(r.u64("rank") == uint64_t(i + 1));
      CHECK(r.u64("total") == uint64_t(i + 1));
    }
  }
}

TEST_CASE("an asc board with the set operator: 120 after 80 is rank 2 of 2") {
  server s{no_merges(3)};
  client c(s.ctx(), s.requests());
  REQUIRE(c.call(configure("golf", std::string("asc"), std::string("set"))).ok());
  REQUIRE(c.call(submit("golf", "bob", 80)).ok());
  auto r = c.call(submit("golf", "alice", 120));
  REQUIRE(r.ok());
  CHECK(r.u64("rank") == 2);
  CHECK(r.u64("total") == 2);
  // A set to a better score moves her ahead, and says where she was.
  r = c.call(submit("golf", "alice", 70));
  REQUIRE(r.ok());
  CHECK(r.u64("rank") == 1);
  CHECK(r.u64("prev_rank") == 2);
}

TEST_CASE("reads right after acknowledged submits see all of them, and say so in seq") {
  server s{no_merges(3)};
  client c(s.ctx(), s.requests());
  uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = c.call(submit("fresh", "p" + std::to_string(i), i));
    REQUIRE(r.ok());
    last = r.u64("seq");
  }
  auto t = c.call(top("fresh", 100));
  REQUIRE(t.ok());
  CHECK(t.u64("total") == 20);
  CHECK(t.entries().size() == 20);
  CHECK(t.u64("seq") >= last);
  auto r = c.call(rank("fresh", "p0", true));
  REQUIRE(r.ok());
  CHECK(r.u64("rank") == 20);
  CHECK(r.u64("seq") >= last);
  auto a = c.call(around("fresh", "p10", 1));
  REQUIRE(a.ok());
  REQUIRE(a.entries().size() == 3);
  CHECK(a.entries()[1].rank == 10);
  auto f = c.call(ranks("fresh", {"p19", "p0"}));
  REQUIRE(f.ok());
  REQUIRE(f.entries().size() == 2);
  CHECK(f.entries()[0].rank == 1);
  CHECK(f.entries()[1].rank == 20);
  CHECK(f.u64("seq") >= last);
  auto b = c.call(boards());
  REQUIRE(b.ok());
  CHECK(b.u64("seq") >= last);
  // exact: false may lag: with no merge yet, the merged view has no board.
  auto stale = c.call(top("fresh", 100).set("exact", false));
  CHECK((stale.ok() ? stale.u64("total") : 0) <= 20);
}

TEST_CASE("a client pipelining 1000 new players is told total 1000 on the last") {
  server s{no_merges(3)};
  client c(s.ctx(), s.requests());
  std::vector<body> bodies;
  for (int i = 0; i < 1000; ++i)
    bodies.push_back(submit("pipe", "p" + std::to_string(i), i));
  auto replies = c.call_all(bodies, 256);
  REQUIRE(replies.size() == 1000);
  uint64_t max_total = 0, max_seq = 0, total_at_max_seq = 0;
  for (auto& r : replies) {
    REQUIRE(r.ok());
    max_total = std::max(max_total, r.u64("total"));
    if (r.u64("seq") > max_seq) {
      max_seq = r.u64("seq");
      total_at_max_seq = r.u64("total");
    }
    // Each counts exactly the submits before it (all of them new players).
    CHECK(r.u64("total") == r.u64("seq"));
  }
  CHECK(max_total == 1000);
  CHECK(total_at_max_seq == 1000);
}
