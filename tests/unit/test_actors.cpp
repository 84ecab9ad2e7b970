// The actors wired as in the daemon, driven through the gateway on the test's
// thread (standing in for the I/O thread), with replies collected by a CAF
// actor instead of a socket. Also run under ThreadSanitizer in CI.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include <msgpack.hpp>

#include "actors/gateway.hpp"
#include "actors/service.hpp"
#include "schemas/request.hpp"

using namespace lb;
using namespace std::chrono_literals;

namespace {

struct reply_msg {
  std::string route;
  std::string body;
};

} // namespace

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(reply_msg)

namespace {

// Sends every reply to one collector actor; each outbox is used by one actor.
class actor_outbox : public actors::outbox {
public:
  explicit actor_outbox(caf::actor sink) : sink_(std::move(sink)) {}
  void send(std::string_view route, std::string_view body) override {
    if (!route.empty()) // control messages (ingest applied) are the gateway's
      caf::anon_send(sink_, reply_msg{std::string(route), std::string(body)});
  }

private:
  caf::actor sink_;
};

// A decoded reply: only what the tests look at.
struct reply {
  msgpack::object_handle oh;
  const msgpack::object& get(const std::string& key) const {
    auto& m = oh.get().via.map;
    for (uint32_t i = 0; i < m.size; ++i)
      if (m.ptr[i].key.as<std::string>() == key)
        return m.ptr[i].val;
    FAIL("reply has no key " << key);
    throw std::logic_error("unreachable");
  }
  bool ok() const { return get("ok").as<bool>(); }
  std::string error_code() const {
    auto& e = get("error").via.map;
    for (uint32_t i = 0; i < e.size; ++i)
      if (e.ptr[i].key.as<std::string>() == "code")
        return e.ptr[i].val.as<std::string>();
    return "";
  }
  uint64_t u64(const std::string& key) const { return get(key).as<uint64_t>(); }
  int64_t i64(const std::string& key) const { return get(key).as<int64_t>(); }
};

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<caf::scoped_actor> inbox;
  actors::service svc;
  std::unique_ptr<actors::gateway> gw;
  uint64_t next_id = 1;
  std::filesystem::path data;

  explicit fixture(uint32_t shards, std::chrono::milliseconds merge = 10ms,
                   const actors::update_sink_factory& updates = {},
                   uint64_t max_update_backlog = 100000) {
    cfg.set("scheduler.max-threads", int64_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
    inbox = std::make_unique<caf::scoped_actor>(*sys);
    caf::actor sink = caf::actor_cast<caf::actor>(*inbox);
    actors::service_options so;
    so.shards = shards;
    so.readers = 2;
    so.merge_interval = merge;
    so.max_update_backlog = max_update_backlog;
    char tmpl[] = "/tmp/lbd-actors-XXXXXX";
    data = mkdtemp(tmpl);
    so.log.dir = data; // the default policy (group), as in the daemon
    storage::recovery_options ro;
    ro.dir = data;
    ro.shards = shards;
    svc = actors::start_service(
      *sys, so, [sink] { return std::make_unique<actor_outbox>(sink); }, storage::recover(ro),
      updates);
    svc.settled_view(*sys, std::chrono::seconds(60));
    gw = std::make_unique<actors::gateway>(svc.ingress, svc.shards, svc.readers);
  }

  ~fixture() {
    gw.reset();
    svc.stop(*sys);
    inbox.reset();
    std::filesystem::remove_all(data);
  }

  // Sends the requests in one drain, returns the replies by id.
  std::map<uint64_t, reply> send_all(const std::vector<schemas::request_body>& reqs) {
    std::vector<uint64_t> ids;
    std::map<uint64_t, reply> out;
    auto now = [&](std::string_view, std::string_view body) {
      auto oh = msgpack::unpack(body.data(), body.size());
      out.emplace(ids.back(), reply{std::move(oh)});
    };
    for (auto& r : reqs) {
      auto id = next_id++;
      ids.push_back(id);
      auto frame = schemas::encode_request(id, r);
      gw->on_request("route", frame, now); // opaque to the actors
    }
    gw->flush();
    while (out.size() < ids.size()) {
      bool got = false;
      (*inbox)->receive(
        [&](reply_msg& m) {
          got = true;
          gw->on_reply_sent();
          auto oh = msgpack::unpack(m.body.data(), m.body.size());
          auto id = reply{std::move(oh)}.u64("id");
          out.emplace(id, reply{msgpack::unpack(m.body.data(), m.body.size())});
        },
        caf::after(10s) >> [&] {});
      REQUIRE_MESSAGE(got, "no reply within 10 s");
    }
    return out;
  }

  reply call(const schemas::request_body& r) {
    auto replies = send_all({r});
    return std::move(replies.begin()->second);
  }

  // Two merge intervals with no events: every rank is exact afterwards.
  void settle() { std::this_thread::sleep_for(60ms); }
};

schemas::submit_req submit(std::string board, std::string player, int64_t score, int64_t sub = 0) {
  schemas::submit_req s;
  s.board = std::move(board);
  s.player = std::move(player);
  s.score = score;
  s.subscore = sub;
  return s;
}

} // namespace

TEST_CASE("submits across shards give exact ranks once merged") {
  fixture f{4};
  std::vector<schemas::request_body> reqs;
  for (int i = 0; i < 200; ++i)
    reqs.push_back(submit("arena", "p" + std::to_string(i), i % 50));
  auto replies = f.send_all(reqs);
  for (auto& [id, r] : replies)
    CHECK(r.ok());
  f.settle();
  // desc, best: higher first; ties by seq, i.e. submission order.
  for (int i = 0; i < 200; i += 17) {
    schemas::rank_req q{"arena", "p" + std::to_string(i), false};
    auto r = f.call(q);
    REQUIRE(r.ok());
    int64_t s = i % 50;
    uint64_t better = 0;
    for (int j = 0; j < 200; ++j)
      if (j % 50 > s || (j % 50 == s && j < i))
        ++better;
    CHECK(r.u64("rank") == better + 1);
    CHECK(r.u64("total") == 200);
  }
  auto top = f.call(schemas::top_req{"arena", 3, 0});
  REQUIRE(top.ok());
  auto entries = top.get("entries").as<std::vector<std::map<std::string, msgpack::object>>>();
  REQUIRE(entries.size() == 3);
  CHECK(entries[0]["player"].as<std::string>() == "p49");
  CHECK(entries[1]["player"].as<std::string>() == "p99");
  CHECK(entries[2]["player"].as<std::string>() == "p149");
}

TEST_CASE("exact rank sees every acknowledged event before a merge") {
  fixture f{3, 10000ms}; // no merge during the test
  std::vector<schemas::request_body> reqs;
  for (int i = 0; i < 30; ++i)
    reqs.push_back(submit("b", "p" + std::to_string(i), i));
  f.send_all(reqs);
  auto r = f.call(schemas::rank_req{"b", "p10", true});
  REQUIRE(r.ok());
  CHECK(r.u64("rank") == 20);
  CHECK(r.u64("total") == 30);
}

TEST_CASE("configure needs an empty board; reset keeps the configuration") {
  fixture f{4};
  schemas::configure_req c;
  c.board = "golf";
  c.order = schemas::board_order::asc;
  auto r = f.call(c);
  REQUIRE(r.ok());
  CHECK(r.get("order").as<std::string>() == "asc");
  CHECK(r.get("operator").as<std::string>() == "best");
  f.send_all({submit("golf", "a", 70), submit("golf", "b", 68), submit("golf", "a", 72)});
  c.op = schemas::score_operator::set;
  auto conflict = f.call(c);
  CHECK_FALSE(conflict.ok());
  CHECK(conflict.error_code() == "conflict");
  f.settle();
  auto top = f.call(schemas::top_req{"golf", 10, 0});
  auto entries = top.get("entries").as<std::vector<std::map<std::string, msgpack::object>>>();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["player"].as<std::string>() == "b");
  CHECK(entries[1]["score"].as<int64_t>() == 70); // asc + best kept 70 over 72
  auto reset = f.call(schemas::reset_req{"golf"});
  REQUIRE(reset.ok());
  CHECK(reset.u64("removed") == 2);
  f.settle();
  auto boards = f.call(schemas::boards_req{});
  auto list = boards.get("boards").as<std::vector<std::map<std::string, msgpack::object>>>();
  REQUIRE(list.size() == 1);
  CHECK(list[0]["total"].as<uint64_t>() == 0);
  CHECK(list[0]["order"].as<std::string>() == "asc");
  CHECK(f.call(c).ok()); // empty again: configure is allowed
}

TEST_CASE("batch: one bad item fails only itself") {
  fixture f{2};
  schemas::batch_req b;
  b.items.emplace_back(submit("x", "a", 5));
  b.items.emplace_back(schemas::error{schemas::error_code::bad_request, "bad item"});
  b.items.emplace_back(submit("x", "b", 9));
  auto r = f.call(b);
  REQUIRE(r.ok());
  auto results = r.get("results").as<std::vector<std::map<std::string, msgpack::object>>>();
  REQUIRE(results.size() == 3);
  CHECK(results[0]["ok"].as<bool>());
  CHECK_FALSE(results[1]["ok"].as<bool>());
  CHECK(results[2]["ok"].as<bool>());
  CHECK(results[2]["seq"].as<uint64_t>() > results[0]["seq"].as<uint64_t>());
}

TEST_CASE("the digest depends on the data, not on the shard count") {
  std::vector<schemas::request_body> reqs;
  std::mt19937_64 rng{7};
  for (int i = 0; i < 500; ++i)
    reqs.push_back(submit(i % 2 ? "odd" : "even", "p" + std::to_string(rng() % 120),
                          static_cast<int64_t>(rng() % 1000) - 500));
  std::string digests[3];
  uint32_t shard_counts[3] = {1, 4, 7};
  for (int k = 0; k < 3; ++k) {
    fixture f{shard_counts[k]};
    for (auto& r : reqs) // one at a time, so every run sees the same seq order
      f.call(r);
    f.settle();
    auto s = f.call(schemas::stats_req{});
    REQUIRE(s.ok());
    digests[k] = s.get("digest").as<std::string>();
    CHECK(s.get("shards").via.array.size == shard_counts[k]);
  }
  CHECK(digests[0].size() == 32);
  CHECK(digests[0] == digests[1]);
  CHECK(digests[0] == digests[2]);
}

TEST_CASE("unknown boards and players are not_found") {
  fixture f{2};
  CHECK(f.call(schemas::top_req{"nope", 10, 0}).error_code() == "not_found");
  CHECK(f.call(schemas::rank_req{"nope", "x", false}).error_code() == "not_found");
  f.call(submit("yes", "a", 1));
  f.settle();
  CHECK(f.call(schemas::rank_req{"yes", "b", false}).error_code() == "not_found");
  CHECK(f.call(schemas::around_req{"yes", "b", 5}).error_code() == "not_found");
  CHECK(f.call(schemas::ping_req{}).ok());
}

// ===========================================================================
// Update streams: a publisher that falls behind.

namespace {

// Holds the publisher inside its first write until opened, as a transport
// that stalls would; records what it is given.
struct gate {
  std::mutex m;
  std::condition_variable cv;
  bool open = false;
  std::vector<std::pair<std::string, std::string>> got;

  void release() {
    std::lock_guard<std::mutex> lock(m);
    open = true;
    cv.notify_all();
  }
  bool saw(const std::string& topic) {
    std::lock_guard<std::mutex> lock(m);
    for (auto& [t, b] : got)
      if (t == topic)
        return true;
    return false;
  }
};

class gated_sink : public actors::update_sink {
public:
  explicit gated_sink(std::shared_ptr<gate> g) : g_(std::move(g)) {}
  bool publish(std::string_view topic, std::string_view body) override {
    std::unique_lock<std::mutex> lock(g_->m);
    g_->cv.wait(lock, [this] { return g_->open; });
    g_->got.emplace_back(std::string(topic), std::string(body));
    return true;
  }

private:
  std::shared_ptr<gate> g_;
};

struct update_counts {
  uint64_t published = 0, dropped = 0;
};

update_counts counts_of(const reply& stats) {
  auto& u = stats.get("updates");
  update_counts c;
  for (uint32_t i = 0; i < u.via.map.size; ++i) {
    auto key = u.via.map.ptr[i].key.as<std::string>();
    (key == "published" ? c.published : c.dropped) = u.via.map.ptr[i].val.as<uint64_t>();
  }
  return c;
}

} // namespace

TEST_CASE("a stalled publisher: updates past the backlog bound are dropped, replies go on") {
  auto g = std::make_shared<gate>();
  const uint64_t bound = 64;
  fixture f{2, 10ms, [g] { return std::make_unique<gated_sink>(g); }, bound};
  const int events = 2000;
  for (int round = 0; round < events / 500; ++round) {
    std::vector<schemas::request_body> reqs;
    for (int i = 0; i < 500; ++i)
      reqs.push_back(submit("g", "p" + std::to_string(round * 500 + i), i));
    for (auto& [id, r] : f.send_all(reqs)) // every reply comes, publisher or not
      CHECK(r.ok());
  }
  auto stalled = counts_of(f.call(schemas::stats_req{}));
  CHECK(stalled.published == 0); // still inside its first write
  // Every event changed an entry: a score/ each. At most `bound` got through.
  CHECK(stalled.dropped >= events - bound);

  g->release();
  REQUIRE(f.call(submit("g2", "marker", 1)).ok());
  for (int i = 0; i < 1000 && !g->saw("top/g2/"); ++i)
    std::this_thread::sleep_for(10ms);
  REQUIRE(g->saw("top/g2/"));
  auto after = counts_of(f.call(schemas::stats_req{}));
  // What waited was the bound's worth; the marker's score/, top/ and rank/ after.
  CHECK(after.published <= bound + 3);
  CHECK(after.published + after.dropped >= events + 3);
  // score/ went out in seq order.
  std::lock_guard<std::mutex> lock(g->m);
  uint64_t last = 0;
  for (auto& [topic, body] : g->got)
    if (topic.rfind("score/", 0) == 0) {
      auto oh = msgpack::unpack(body.data(), body.size());
      auto seq = reply{std::move(oh)}.u64("seq");
      CHECK(seq > last);
      last = seq;
    }
  CHECK(last > 0);
}
