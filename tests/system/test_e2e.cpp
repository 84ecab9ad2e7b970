// End-to-end tests: the real leaderboardd binary as a child process, driven
// over ZeroMQ with msgpack exactly as PROTOCOL.md describes (sections 1-4 and
// 6; the update streams of section 5 are tested in test_updates.cpp).
//
// The concurrent tests record every event reply (each carries its `seq`),
// replay the events in seq order through a small reference model written from
// PROTOCOL.md alone (reference_model.hpp), and compare: each submit reply,
// its rank and total included, against the model at that seq, then the whole
// final state.
//
// One executable, one file per topic: this one holds the main and the smoke
// tests; test_e2e_concurrency.cpp the clients checked against the model;
// test_e2e_input.cpp ingest and hostile frames; test_e2e_process.cpp flags,
// signals and ports; test_e2e_shards.cpp the digest across shard counts;
// test_e2e_exact.cpp exact replies with no merge to help;
// test_e2e_paging.cpp `boards` pages and `top` cursors.
//
// Also run under ThreadSanitizer (LBD_TEST_SCALE=tsan): request counts shrink,
// client counts do not.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <limits>
#include <map>
#include <set>

#include "tests/system/e2e_checks.hpp"
#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

// ===========================================================================
// Smoke: every op once, exact keys and values.

TEST_CASE("smoke: every op once, with the reply keys of PROTOCOL.md") {
  server s;
  client c(s.ctx(), s.requests());
  const auto ok_id = std::set<std::string>{"ok", "id"};
  auto keys = [&](std::initializer_list<const char*> k) { return with(ok_id, k); };

  auto r = c.call(ping());
  CHECK(r.keys() == keys({"pong"}));
  CHECK(r.flag("pong"));

  r = c.call(configure("smoke", "desc", "best"));
  REQUIRE(r.ok());
  CHECK(r.keys() == keys({"board", "order", "operator", "seq", "schedule", "keep"}));
  CHECK(r.str("board") == "smoke");
  uint64_t last_seq = r.u64("seq");
  auto next_seq = [&](const reply& x) {
    auto seq = x.u64("seq");
    CHECK(seq > last_seq);
    last_seq = seq;
  };

  r = c.call(submit("smoke", "alice", 100, 5, meta_v{"m1", false}));
  REQUIRE(r.ok());
  CHECK(r.keys() == with(submit_keys, {"ok", "id"}));
  CHECK(r.i64("score") == 100);
  CHECK(r.i64("subscore") == 5);
  CHECK(r.u64("rank") == 1);
  CHECK(r.is_nil("prev_rank"));
  CHECK(r.flag("changed"));
  CHECK(r.u64("total") == 1);
  next_seq(r);
  s.settle();

  r = c.call(submit("smoke", "bob", 50, std::nullopt, meta_v{std::string("\x00\xff", 2), true}));
  CHECK(r.u64("rank") == 2);
  CHECK(r.u64("total") == 2);
  CHECK(r.i64("subscore") == 0); // the default
  next_seq(r);
  s.settle();

  // best: a worse submission changes nothing, still gets a seq.
  r = c.call(submit("smoke", "alice", 90, 9, meta_v{"ignored", false}));
  CHECK_FALSE(r.flag("changed"));
  CHECK(r.i64("score") == 100);
  CHECK(r.i64("subscore") == 5);
  CHECK(r.u64("prev_rank") == 1);
  CHECK(r.u64("rank") == 1);
  next_seq(r);

  r = c.call(batch({submit_item("smoke", "carol", 70),
                    body().set("board", "smoke").set("player", "dave").set("score", "x"),
                    submit_item("smoke", "alice", 200)}));
  REQUIRE(r.ok());
  CHECK(r.keys() == keys({"results"}));
  auto& res = r.at("results");
  REQUIRE(res.via.array.size == 3);
  CHECK(keys_of(res.via.array.ptr[0]) == with(submit_keys, {"ok"}));
  CHECK(keys_of(res.via.array.ptr[1]) == std::set<std::string>{"ok", "error"});
  CHECK(at(at(res.via.array.ptr[1], "error"), "code").as<std::string>() == "bad_request");
  CHECK(keys_of(at(res.via.array.ptr[1], "error")) == std::set<std::string>{"code", "message"});
  CHECK(at(res.via.array.ptr[2], "changed").as<bool>());
  CHECK(at(res.via.array.ptr[2], "score").as<int64_t>() == 200);
  CHECK(at(res.via.array.ptr[2], "seq").as<uint64_t>()
        > at(res.via.array.ptr[0], "seq").as<uint64_t>());
  last_seq = at(res.via.array.ptr[2], "seq").as<uint64_t>();
  s.settle();

  // alice 200/0 (meta m1 kept), carol 70, bob 50.
  r = c.call(rank("smoke", "bob"));
  CHECK(r.keys()
        == keys(
          {"board", "player", "score", "subscore", "meta", "rank", "total", "percentile", "seq"}));
  CHECK(r.u64("rank") == 3);
  CHECK(r.u64("total") == 3);
  CHECK(meta_of(r.at("meta")) == meta_v{std::string("\x00\xff", 2), true});
  r = c.call(rank("smoke", "alice", true));
  CHECK(r.u64("rank") == 1);
  CHECK(r.i64("subscore") == 0);
  CHECK(meta_of(r.at("meta")) == meta_v{"m1", false}); // kept: the submit had no meta

  r = c.call(top("smoke", 2, 1));
  CHECK(r.keys() == keys({"board", "total", "seq", "entries", "next"}));
  CHECK(r.is_nil("next")); // ranks 2 and 3 of 3: the last page
  CHECK(r.u64("total") == 3);
  auto es = r.entries();
  REQUIRE(es.size() == 2);
  CHECK(keys_of(r.at("entries").via.array.ptr[0]) == entry_keys);
  CHECK(es[0] == entry{2, "carol", 70, 0, std::nullopt});
  CHECK(es[1].player == "bob");
  CHECK(es[1].rank == 3);

  r = c.call(around("smoke", "carol", 1));
  CHECK(r.keys() == keys({"board", "total", "seq", "entries"}));
  es = r.entries();
  REQUIRE(es.size() == 3);
  CHECK(es[0].player == "alice");
  CHECK(es[1].player == "carol");
  CHECK(es[2].player == "bob");

  r = c.call(ranks("smoke", {"bob", "nobody", "alice"}));
  CHECK(r.keys() == keys({"board", "total", "seq", "entries"}));
  es = r.entries();
  REQUIRE(es.size() == 2);
  CHECK(es[0].player == "alice");
  CHECK(es[0].rank == 1);
  CHECK(es[1].player == "bob");
  CHECK(es[1].rank == 3);

  r = c.call(remove("smoke", "bob"));
  CHECK(r.keys() == keys({"removed", "seq"}));
  CHECK(r.flag("removed"));
  next_seq(r);
  r = c.call(remove("smoke", "bob"));
  CHECK_FALSE(r.flag("removed"));
  next_seq(r);
  r = c.call(remove("no-such-board", "bob"));
  CHECK_FALSE(r.flag("removed"));

  r = c.call(configure("smoke", "asc", std::nullopt));
  CHECK(r.keys() == keys({"error"}));
  CHECK(r.error_code() == "conflict");

  r = c.call(reset("smoke"));
  CHECK(r.keys() == keys({"removed", "seq"}));
  CHECK(r.u64("removed") == 2);
  next_seq(r);
  r = c.call(reset("never-seen"));
  CHECK(r.u64("removed") == 0);

  // Configure keeps what is not given; allowed again on the empty board.
  r = c.call(configure("smoke", std::nullopt, "set"));
  REQUIRE(r.ok());
  CHECK(r.str("order") == "desc");
  CHECK(r.str("operator") == "set");
  r = c.call(submit("auto", "x", 1)); // a board created by its first submit
  REQUIRE(r.ok());
  s.settle();

  r = c.call(boards());
  CHECK(r.keys() == keys({"seq", "boards", "next"})); // exact: no `total`
  CHECK(r.is_nil("next"));
  std::map<std::string, std::string> listed;
  auto& bl = r.at("boards");
  for (uint32_t i = 0; i < bl.via.array.size; ++i) {
    auto& b = bl.via.array.ptr[i];
    CHECK(keys_of(b)
          == std::set<std::string>{"board", "total", "order", "operator", "season", "schedule",
                                   "keep"});
    listed[at(b, "board").as<std::string>()] = std::to_string(at(b, "total").as<uint64_t>()) + " "
                                               + at(b, "order").as<std::string>() + " "
                                               + at(b, "operator").as<std::string>();
  }
  CHECK(listed
        == std::map<std::string, std::string>{{"smoke", "0 desc set"}, {"auto", "1 desc best"}});

  r = c.call(stats());
  auto sk = r.keys();
  for (auto k : {"ok", "id", "seq", "shards", "merge", "digest"})
    CHECK_MESSAGE(sk.count(k), "stats has no " << k);
  CHECK(r.u64("seq") > last_seq);
  CHECK(r.at("shards").via.array.size == s.options().shards);
  CHECK(keys_of(r.at("shards").via.array.ptr[0])
        == std::set<std::string>{"shard", "entries", "mailbox"});
  CHECK(keys_of(r.at("merge")) == std::set<std::string>{"interval_ms", "last_merge_seq", "age_ms"});
  CHECK(at(r.at("merge"), "interval_ms").as<uint64_t>() == s.options().merge_interval_ms);
  CHECK_FALSE(r.str("digest").empty());
  // The first view the service waited for at start came from a timer tick.
  REQUIRE(sk.count("merges"));
  CHECK(keys_of(r.at("merges")) == std::set<std::string>{"count", "last_us", "max_us"});
  CHECK(at(r.at("merges"), "count").as<uint64_t>() >= 1);
  CHECK(at(r.at("merges"), "max_us").as<uint64_t>()
        >= at(r.at("merges"), "last_us").as<uint64_t>());

  // Failures: not_found for unknown boards and players, unknown_op.
  for (auto& b : {top("nope"), rank("nope", "x"), around("nope", "x"), ranks("nope", {"x"}),
                  rank("auto", "ghost"), around("auto", "ghost")}) {
    r = c.call(b);
    CHECK(r.keys() == keys({"error"}));
    CHECK(r.error_code() == "not_found");
    CHECK(r.at("error").via.map.size == 2);
  }
  r = c.call(body{"frobnicate"});
  CHECK(r.error_code() == "unknown_op");

  // Section 2: unknown keys are ignored; a nil optional key is absent.
  r = c.call(submit("auto", "y", 5, 3, meta_v{"keep", false}).set("future_key", 1));
  REQUIRE(r.ok());
  r = c.call(body{"submit"}
               .set("board", "auto")
               .set("player", "y")
               .set("score", 6)
               .set("subscore", nil{})
               .set("meta", nil{}));
  REQUIRE(r.ok());
  CHECK(r.i64("subscore") == 0);
  s.settle();
  r = c.call(rank("auto", "y"));
  CHECK(meta_of(r.at("meta")) == meta_v{"keep", false});
  CHECK(r.i64("score") == 6);
  c.send_raw(ping().set("id", nil{}).pack());
  auto pong = c.receive(patience(10s));
  REQUIRE(pong);
  CHECK_FALSE(pong->has("id"));
  // Past the end: an empty page, not an error.
  r = c.call(top("auto", 10, 1000));
  REQUIRE(r.ok());
  CHECK(r.entries().empty());
  CHECK(r.u64("total") == 2);
}

TEST_CASE("exact rank sees every acknowledged event, with no merge yet") {
  // A merge interval of a minute: after start-up, nothing merges.
  server s{make_server_options(7, 60000)};
  client c(s.ctx(), s.requests());
  for (int i = 0; i < 40; ++i)
    REQUIRE(c.call(submit("exact", "e" + std::to_string(i), i % 10)).ok());
  // desc: higher first; equal scores by seq (submission order).
  for (int i = 0; i < 40; ++i) {
    auto r = c.call(rank("exact", "e" + std::to_string(i), true));
    REQUIRE(r.ok());
    uint64_t better = 0;
    for (int j = 0; j < 40; ++j)
      better += j % 10 > i % 10 || (j % 10 == i % 10 && j < i);
    CHECK(r.u64("rank") == better + 1);
    CHECK(r.u64("total") == 40);
  }
}

TEST_CASE("smoke: REQ clients, envelopes and ids") {
  server s;
  SUBCASE("a REQ socket gets its reply") {
    zmq::socket_t req(s.ctx(), zmq::socket_type::req);
    req.set(zmq::sockopt::linger, 0);
    req.set(zmq::sockopt::rcvtimeo, static_cast<int>(patience(10s).count()));
    req.connect(s.requests());
    for (uint64_t id : {7u, 8u}) {
      auto frame = ping().id(id).pack();
      req.send(zmq::buffer(frame), zmq::send_flags::none);
      zmq::message_t m;
      REQUIRE(req.recv(m));
      CHECK_FALSE(m.more());
      auto r = reply::decode(m.to_string());
      REQUIRE(r);
      CHECK(r->flag("pong"));
      CHECK(r->id() == id);
    }
  }
  SUBCASE("a DEALER's envelope frames come back as sent") {
    zmq::socket_t d(s.ctx(), zmq::socket_type::dealer);
    d.set(zmq::sockopt::linger, 0);
    d.set(zmq::sockopt::rcvtimeo, static_cast<int>(patience(10s).count()));
    d.connect(s.requests());
    auto send3 = [&](const std::string& body_frame) {
      d.send(zmq::str_buffer("route-a"), zmq::send_flags::sndmore);
      d.send(zmq::str_buffer(""), zmq::send_flags::sndmore);
      d.send(zmq::buffer(body_frame), zmq::send_flags::none);
    };
    auto recv_all = [&] {
      std::vector<std::string> frames;
      zmq::message_t m;
      do {
        REQUIRE(d.recv(m));
        frames.push_back(m.to_string());
      } while (m.more());
      return frames;
    };
    send3(ping().id(1).pack());
    auto f = recv_all();
    REQUIRE(f.size() == 3);
    CHECK(f[0] == "route-a");
    CHECK(f[1] == "");
    CHECK(reply::decode(f[2])->flag("pong"));
    // An event goes through the actors, not the I/O thread: same envelope.
    send3(submit("env", "p", 1).id(2).pack());
    f = recv_all();
    REQUIRE(f.size() == 3);
    CHECK(f[0] == "route-a");
    CHECK(reply::decode(f[2])->id() == 2u);
    // An empty last frame is an empty body.
    send3("");
    f = recv_all();
    REQUIRE(f.size() == 3);
    CHECK(f[0] == "route-a");
    CHECK(reply::decode(f[2])->error_code() == "bad_request");
  }
  SUBCASE("ids are echoed whatever their width, and absent when not sent") {
    client c(s.ctx(), s.requests());
    for (uint64_t id :
         {uint64_t{0}, uint64_t{255}, uint64_t{1} << 32, std::numeric_limits<uint64_t>::max()}) {
      c.send_raw(ping().id(id).pack());
      auto r = c.receive(patience(10s));
      REQUIRE(r);
      CHECK(r->id() == id);
    }
    c.send_raw(ping().pack());
    auto r = c.receive(patience(10s));
    REQUIRE(r);
    CHECK(r->keys() == std::set<std::string>{"ok", "pong"});
    c.send_raw(body{"nope"}.id(77).pack()); // errors echo it too
    r = c.receive(patience(10s));
    REQUIRE(r);
    CHECK(r->id() == 77u);
    CHECK(r->error_code() == "unknown_op");
  }
  SUBCASE("a batch of 1000 items answers each, in order") {
    client c(s.ctx(), s.requests());
    std::vector<body> items;
    for (int i = 0; i < 1000; ++i)
      items.push_back(i % 100 == 99 ? submit_item("big", "", i) // empty name: fails alone
                                    : submit_item("big", "b" + std::to_string(i), i));
    auto r = c.call(lb::e2e::batch(items));
    REQUIRE(r.ok());
    auto& res = r.at("results");
    REQUIRE(res.via.array.size == 1000);
    size_t wrong = 0;
    for (uint32_t i = 0; i < 1000; ++i) {
      auto& x = res.via.array.ptr[i];
      bool good = i % 100 == 99 ? !at(x, "ok").as<bool>()
                                : at(x, "ok").as<bool>()
                                    && at(x, "player").as<std::string>() == "b" + std::to_string(i);
      wrong += !good;
    }
    CHECK(wrong == 0);
    s.settle();
    CHECK(c.call(top("big")).u64("total") == 990);
  }
  SUBCASE("a pipelined DEALER gets every reply, matched by id") {
    client c(s.ctx(), s.requests());
    // Reads, writes and stats go to different actors, so replies may overtake
    // each other; each must still answer its own request.
    std::map<uint64_t, std::string> sent; // id -> the player or op it names
    size_t n = scaled(600);
    for (size_t i = 0; i < n; ++i) {
      auto p = "p" + std::to_string(i % 50);
      switch (i % 4) {
        case 0:
          sent[c.send(submit("pipe", p, static_cast<int64_t>(i)))] = p;
          break;
        case 1:
          sent[c.send(rank("pipe", p))] = p;
          break;
        case 2:
          sent[c.send(ping())] = "ping";
          break;
        default:
          sent[c.send(stats())] = "stats";
          break;
      }
    }
    std::set<uint64_t> seen;
    size_t mismatched = 0;
    for (size_t i = 0; i < n; ++i) {
      auto r = c.receive(patience(10s));
      REQUIRE_MESSAGE(r, "only " << i << " of " << n << " replies");
      auto id = r->id();
      REQUIRE(id);
      REQUIRE(sent.count(*id));
      CHECK(seen.insert(*id).second);
      auto& what = sent[*id];
      bool match = what == "ping" ? r->has("pong")
                   : what == "stats"
                     ? r->has("digest")
                     : (r->ok() ? r->str("player") == what : r->error_code() == "not_found");
      mismatched += !match;
    }
    CHECK(seen.size() == n);
    CHECK(mismatched == 0);
  }
}
