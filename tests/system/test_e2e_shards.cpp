// The e2e test that the digest, the replies and the order do not depend on
// the shard count.
#include <doctest/doctest.h>

#include <random>

#include "tests/system/e2e_client.hpp"
#include "tests/system/e2e_load.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

// A fixed sequence over every operator, sent one request at a time so that
// every run gives the events the same seqs.
std::vector<request> fixed_sequence(size_t n) {
  const std::vector<board_spec> bs = {
    {"d.best", "desc", "best"}, {"a.best", "asc", "best"},  {"d.set", "desc", "set"},
    {"a.incr", "asc", "incr"},  {"d.decr", "desc", "decr"}, {"plain", std::nullopt, std::nullopt}};
  const auto players = player_pool(30);
  std::vector<request> out;
  for (auto& b : bs)
    if (b.order || b.oper)
      out.push_back(configure_req(b.name, b.order, b.oper));
  std::mt19937_64 rng{2024};
  for (size_t i = 0; i < n; ++i) {
    auto& b = bs[rng() % bs.size()];
    auto roll = rng() % 100;
    if (roll < 80)
      out.push_back(random_submit(rng, b, players, "t" + std::to_string(i)));
    else if (roll < 95)
      out.push_back(simple_req("remove", b.name, players[rng() % players.size()]));
    else
      out.push_back(simple_req("reset", b.name));
  }
  return out;
}

// The event replies (seq and outcome) and the final digest of one run.
struct run_outcome {
  std::vector<std::string> replies;
  std::string empty_digest, digest;
  std::vector<entry> top_plain;
};

run_outcome run_sequence(uint32_t shards, const std::vector<request>& seq) {
  server s{make_server_options(shards, 20)};
  client c(s.ctx(), s.requests());
  run_outcome out;
  out.empty_digest = digest(c);
  for (auto& r : seq) {
    auto rep = c.call(r.to_body());
    REQUIRE_MESSAGE(rep.ok(), describe(r) << ": " << rep.text());
    std::string line = std::to_string(rep.u64("seq"));
    if (r.op == "submit")
      line += " " + std::to_string(rep.i64("score")) + " " + std::to_string(rep.i64("subscore"))
              + " " + std::to_string(rep.flag("changed"));
    else if (r.op == "remove")
      line += " " + std::to_string(rep.flag("removed"));
    else if (r.op == "reset")
      line += " " + std::to_string(rep.u64("removed"));
    out.replies.push_back(line);
  }
  out.digest = digest(c);
  s.settle();
  out.top_plain = read_board(c, "d.set");
  CHECK(digest(c) == out.digest);
  return out;
}

} // namespace

TEST_CASE("1, 3 and 7 shards give the same digest for the same requests") {
  auto seq = fixed_sequence(scaled(3000));
  auto one = run_sequence(1, seq);
  CHECK(one.digest != one.empty_digest);
  for (uint32_t shards : {3u, 7u}) {
    CAPTURE(shards);
    auto other = run_sequence(shards, seq);
    CHECK(other.empty_digest == one.empty_digest);
    CHECK(other.replies == one.replies);
    CHECK(other.top_plain == one.top_plain);
    CHECK(other.digest == one.digest);
  }
}
