// The e2e tests of input the service must count or refuse: ingest's
// fire-and-forget frames, good and bad, and hostile frames on the requests
// socket.
#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <set>
#include <thread>

#include "tests/system/e2e_checks.hpp"
#include "tests/system/e2e_client.hpp"
#include "tests/system/e2e_load.hpp"
#include "tests/system/reference_model.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

// ===========================================================================
// Ingest: fire-and-forget PUSH.

TEST_CASE("ingest applies good events and counts bad frames and items") {
  server s{make_server_options(3, 20)};
  const std::vector<board_spec> bs = {{"ing.set", "desc", "set"}, {"ing.incr", "asc", "incr"}};
  std::vector<event> events;
  configure_all(s, bs, events);
  client c(s.ctx(), s.requests());
  auto before = c.call(stats());
  const auto players = player_pool(25);

  // One PUSH socket: its frames arrive in order, so the model can replay the
  // events in send order (their seqs are not reported back).
  std::mt19937_64 rng{11};
  std::vector<request> good; // in send order
  uint64_t rejected = 0;
  {
    lb::transport::ingest_client push(s.ctx(), s.ingest());
    auto rand_submit = [&] { return random_submit(rng, bs[rng() % 2], players, "ingest"); };
    std::vector<std::string> bad_frames = {
      "",                                                     // empty
      std::string("\xc1", 1),                                 // never valid msgpack
      std::string("\x82\xa2op", 4),                           // truncated map
      std::string("\xdf\xff\xff\xff\xff", 5),                 // a map of 2^32-1 entries
      std::string("\x93\x01\x02\x03", 4),                     // not a map
      ping().pack(),                                          // not accepted on ingest
      rank("ing.set", "p1").pack(),                           // neither
      body{"nope"}.pack(),                                    // unknown op
      body{"submit"}.set("board", "ing.set").pack(),          // no player, no score
      submit("bad/board", "p1", 1).pack(),                    // bad name
      body{"batch"}.set("items", 5).pack(),                   // items not an array
      body{"batch"}.set("items", std::vector<body>{}).pack(), // empty batch
    };
    size_t rounds = scaled(50);
    for (size_t round = 0; round < rounds; ++round) {
      for (int k = 0; k < 4; ++k) {
        good.push_back(rand_submit());
        push.send(good.back().to_body().pack());
      }
      // A batch with some bad items; only those fail.
      std::vector<body> items;
      for (int k = 0; k < 6; ++k) {
        switch ((round + static_cast<size_t>(k)) % 5) {
          case 0:
            items.push_back(submit_item("bad board", "p1", 1));
            ++rejected;
            break;
          case 1:
            items.push_back(body().set("board", "ing.set").set("player", "p1").set("score", "1"));
            ++rejected;
            break;
          default: {
            good.push_back(rand_submit());
            auto& g = good.back();
            items.push_back(submit_item(g.board, g.player, g.score, g.subscore, g.meta));
          }
        }
      }
      push.send(lb::e2e::batch(items).pack());
      push.send(bad_frames[round % bad_frames.size()]);
      ++rejected;
    }
  } // closing the PUSH socket flushes it (linger)

  // Wait until the service has seen every frame.
  uint64_t ev = 0, rej = 0;
  const uint64_t ev0 = before.u64("ingest_events"), rej0 = before.u64("ingest_rejected");
  wait_until(
    patience(20s),
    [&] {
      auto st = c.call(stats());
      ev = st.u64("ingest_events") - ev0;
      rej = st.u64("ingest_rejected") - rej0;
      return ev + rej >= good.size() + rejected;
    },
    20ms);
  CHECK(ev == good.size());
  CHECK(rej == rejected);
  CHECK(stats_seq(c) == before.u64("seq") + good.size()); // one seq per event

  model m;
  CHECK(replay(events, m).empty()); // the configures
  uint64_t seq = before.u64("seq");
  for (auto& g : good)
    m.submit(g, ++seq);
  s.settle();
  check_final_state(c, m, players);
}

// ===========================================================================
// Hostile frames on the requests socket.

namespace {

struct garbage {
  std::string name;
  std::string frame;
  std::set<std::string> codes; // acceptable error codes
  std::optional<uint64_t> id;  // echoed when set
};

std::vector<garbage> hostile_frames() {
  const std::set<std::string> bad = {"bad_request"};
  std::vector<garbage> g = {
    {"empty frame", "", bad, {}},
    {"0xc1", std::string("\xc1", 1), bad, {}},
    {"truncated map", std::string("\x82\xa2op\xa4pi", 7), bad, {}},
    {"map of 2^32-1 entries", std::string("\xdf\xff\xff\xff\xff", 5), bad, {}},
    {"array of 2^32-1", std::string("\xdd\xff\xff\xff\xff", 5), bad, {}},
    {"str of 4 GiB", std::string("\xdb\xff\xff\xff\xff", 5), bad, {}},
    {"100k-deep arrays", std::string(100000, '\x91') + "\xc0", bad, {}},
    {"100k-deep maps",
     [] {
       std::string s;
       for (int i = 0; i < 100000; ++i)
         s += std::string("\x81\xa1k", 3);
       return s + "\xc0";
     }(),
     bad,
     {}},
    {"trailing bytes", ping().pack() + "x", bad, {}},
    {"int body", std::string("\x2a", 1), bad, {}},
    {"str body", std::string("\xa4ping", 5), bad, {}},
    {"op missing", body().set("board", "b").id(3).pack(), bad, 3},
    {"op not a str", body().set("op", 1).id(4).pack(), bad, 4},
    {"op unknown", body{"explode"}.id(5).pack(), {"unknown_op"}, 5},
    {"non-str key", std::string("\x82\xa2op\xa4ping\x01\x02", 10), bad, {}},
    {"score a str",
     body{"submit"}.set("board", "g").set("player", "p").set("score", "9").id(6).pack(), bad, 6},
    {"score above int64",
     body{"submit"}
       .set("board", "g")
       .set("player", "p")
       .set("score", uint64_t{1} << 63)
       .id(7)
       .pack(),
     bad, 7},
    {"board as bin",
     body{"submit"}.set("board", bin{"g"}).set("player", "p").set("score", 1).pack(),
     bad,
     {}},
    {"board with /", submit("g/h", "p", 1).pack(), bad, {}},
    {"board of 65 bytes", submit(std::string(65, 'b'), "p", 1).pack(), bad, {}},
    {"player of 129 bytes", submit("g", std::string(129, 'p'), 1).pack(), bad, {}},
    {"player with NUL", submit("g", std::string("a\0b", 3), 1).pack(), bad, {}},
    {"player not UTF-8", submit("g", "\xff\xfe", 1).pack(), bad, {}},
    {"meta of 257 bytes",
     submit("g", "p", 1, 0, meta_v{std::string(257, 'm'), false}).pack(),
     bad,
     {}},
    {"limit 0", top("g", 0).pack(), bad, {}},
    {"limit 1001", top("g", 1001).pack(), bad, {}},
    {"radius 101", around("g", "p", 101).pack(), bad, {}},
    {"ranks of 101", ranks("g", std::vector<std::string>(101, "p")).pack(), bad, {}},
    {"batch of 1001",
     lb::e2e::batch(std::vector<body>(1001, submit_item("g", "p", 1))).pack(),
     bad,
     {}},
    {"configure order sideways", configure("g", "sideways", std::nullopt).pack(), bad, {}},
    {"negative id", ping().set("id", -1).pack(), bad, {}},
  };
  // Random bytes of many lengths; a seed for each so a failure can be replayed.
  std::mt19937_64 rng{99};
  for (size_t len : {1, 2, 3, 5, 8, 13, 31, 64, 100, 255, 1000, 4096, 65536})
    for (int k = 0; k < 20; ++k) {
      std::string f(len, '\0');
      for (auto& ch : f)
        ch = static_cast<char>(rng());
      g.push_back({"random " + std::to_string(len) + " bytes #" + std::to_string(k),
                   f,
                   {"bad_request", "unknown_op"},
                   {}});
    }
  return g;
}

} // namespace

TEST_CASE("hostile frames get bad_request and change nothing") {
  server s;
  client c(s.ctx(), s.requests());
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.call(submit("g", "p" + std::to_string(i), i, i % 3, meta_v{"m", false})).ok());
  s.settle();
  auto before = c.call(stats());

  // Good clients keep reading while the garbage flows.
  std::atomic<bool> done{false};
  std::vector<client_log> good_logs(4);
  std::vector<std::thread> good;
  for (size_t i = 0; i < good_logs.size(); ++i)
    good.emplace_back([&, i] {
      client reader(s.ctx(), s.requests());
      for (size_t n = 0; !done; ++n) {
        request r = n % 3 == 0   ? simple_req("ping", "")
                    : n % 3 == 1 ? simple_req("top", "g")
                                 : simple_req("rank", "g", "p7");
        call_checked(reader, r, {}, "reader " + std::to_string(i), good_logs[i]);
      }
    });

  auto frames = hostile_frames();
  size_t wrong = 0;
  for (auto& g : frames) {
    c.send_raw(g.frame);
    auto r = c.receive(patience(10s));
    bool good_reply = r && !r->ok() && g.codes.count(r->error_code())
                      && keys_of(r->at("error")) == std::set<std::string>{"code", "message"}
                      && r->id() == g.id;
    if (!good_reply && wrong++ < 10)
      FAIL_CHECK(g.name << ": " << (r ? r->text() : "no reply"));
  }
  CHECK(wrong == 0);

  // A frame of exactly max_frame (1 MiB) is decoded; one byte more is not:
  // the connection is dropped and nothing answers.
  auto padded_ping = [](size_t total) {
    // map{op: "ping", pad: str32} = 18 bytes of overhead.
    std::string f("\x82\xa2op\xa4ping\xa3pad\xdb", 14);
    uint32_t n = static_cast<uint32_t>(total - 18);
    for (int b = 3; b >= 0; --b)
      f.push_back(static_cast<char>((n >> (8 * b)) & 0xff));
    return f + std::string(n, 'z');
  };
  {
    client big(s.ctx(), s.requests());
    big.send_raw(padded_ping(1 << 20));
    auto r = big.receive(patience(10s));
    REQUIRE_MESSAGE(r, "no reply to a frame of exactly 1 MiB");
    CHECK(r->flag("pong"));
    big.send_raw(padded_ping((1 << 20) + 1));
    CHECK_FALSE(big.receive(patience(1s)));
  }
  REQUIRE(c.call(ping()).ok()); // still serving

  done = true;
  for (auto& t : good)
    t.join();
  size_t replies = 0;
  for (auto& l : good_logs)
    replies += l.replies;
  gather(good_logs, replies);
  CHECK(replies > 0);

  auto after = c.call(stats());
  CHECK(after.str("digest") == before.str("digest"));
  CHECK(after.u64("seq") == before.u64("seq")); // no event came of the garbage
}
