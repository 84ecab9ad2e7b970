// The actors wired as in the daemon, driven through the gateway on the test's
// thread (standing in for the I/O thread), on CAF's deterministic test
// scheduler: no sleeps, and every run sees the same interleaving. The real
// scheduler's threads are tested through the daemon (tests/system).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <caf/scheduler/test_coordinator.hpp>
#include <msgpack.hpp>

#include "actors/front/gateway.hpp"
#include "actors/front/round_builder.hpp"
#include "actors/paging.hpp"
#include "actors/service.hpp"
#include "schemas/request.hpp"

using namespace lb;
using namespace std::chrono_literals;

namespace {

struct reply_msg {
  std::string route;
  std::string body;
};

// Collects what an actor sends. Every actor runs on the test's thread, so
// all outboxes can share one vector.
class collecting_outbox : public actors::outbox {
public:
  explicit collecting_outbox(std::vector<std::string>& into) : into_(into) {}

protected:
  void send(std::string_view batch) override { into_.emplace_back(batch); }

private:
  std::vector<std::string>& into_;
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
  bool has(const std::string& key) const {
    auto& m = oh.get().via.map;
    for (uint32_t i = 0; i < m.size; ++i)
      if (m.ptr[i].key.as<std::string>() == key)
        return true;
    return false;
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

// A service on CAF's deterministic scheduler: actors run only inside run(),
// on this thread, in a reproducible order, and time moves only when a test
// moves it (merge() is one merge interval). The gateway runs on this thread
// too, as on the I/O thread; the replies it sends land in `replies`.
struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  actors::service_options so;
  actors::service svc;
  std::unique_ptr<actors::gateway> gw;
  std::vector<std::string> outbox; // what the actors sent, in order
  std::vector<reply_msg> replies;  // what the gateway sent on from it
  std::vector<caf::abstract_actor*> held;
  // The gateway's time: it cuts for a merge once a merge interval has passed.
  std::chrono::steady_clock::time_point clock = std::chrono::steady_clock::now();
  uint64_t next_id = 1;
  std::filesystem::path data;

  explicit fixture(uint32_t shards, const actors::update_sink_factory& updates = {},
                   uint64_t max_update_backlog = 100000) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
    so.shards = shards;
    so.readers = 2;
    so.merge_interval = 1h; // never on its own: merge() moves time that far
    so.max_update_backlog = max_update_backlog;
    so.detach_disk_actors = false; // every actor on the deterministic scheduler
    char tmpl[] = "/tmp/lbd-actors-XXXXXX";
    data = mkdtemp(tmpl);
    so.log.dir = data; // the default policy (group), as in the daemon
    storage::recovery_options ro;
    ro.dir = data;
    ro.shards = shards;
    storage::recovered_state recovered;
    REQUIRE(storage::recover(ro, recovered).ok());
    auto make_outbox = [this] { return std::make_unique<collecting_outbox>(outbox); };
    svc = actors::start_service(*sys, so, make_outbox, std::move(recovered), updates);
    // One client sends everything here: its bounds are test_access's.
    actors::gateway_limits unbounded;
    unbounded.max_inflight_per_client = unbounded.max_inflight;
    unbounded.max_inflight_entries_per_client = UINT64_MAX;
    gw = std::make_unique<actors::gateway>(
      svc, so,
      [this](std::string_view route, std::string_view body) {
        replies.push_back(reply_msg{std::string(route), std::string(body)});
      },
      unbounded);
    run(); // wiring, the restored state
  }

  ~fixture() {
    held.clear();
    run();
    gw.reset();
    for (auto& a : svc.all())
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched->run();
    sys.reset();
    std::filesystem::remove_all(data);
  }

  // Lets every actor (but the held ones) handle its mailbox until nothing is
  // left to do, letting time pass for the log's group commit as often as
  // it waits for one, and hands what the actors sent to the gateway as the
  // I/O thread would, until neither has anything left. Merges happen only
  // in merge().
  void run() {
    auto runnable = [this](caf::resumable* job) {
      return std::find(held.begin(), held.end(), dynamic_cast<caf::abstract_actor*>(job))
             == held.end();
    };
    do {
      do
        sched->run_jobs_filtered(runnable);
      while (sched->advance_time(so.log.group_window) > 0);
      for (auto& batch : outbox)
        gw->on_internal(batch);
      outbox.clear();
      gw->flush(clock);
    } while (!outbox.empty() || std::any_of(sched->jobs.begin(), sched->jobs.end(), runnable));
  }

  // The actor gets no turn until release(): its mailbox fills up.
  template <class Handle>
  void hold(const Handle& h) {
    held.push_back(caf::actor_cast<caf::abstract_actor*>(h));
  }
  void release() {
    held.clear();
    run();
  }

  // One merge interval passes: the gateway cuts the stream and the merge
  // actor builds the next view, which `exact: false` reads answer from.
  void merge() {
    clock += 2 * so.merge_interval;
    run();
  }

  // Sends the requests in one drain of the sockets, returns the replies by id.
  std::map<uint64_t, reply> send_all(const std::vector<schemas::request_body>& reqs) {
    std::map<uint64_t, reply> out;
    for (auto& r : reqs) {
      auto id = next_id++;
      auto frame = schemas::encode_request(id, r);
      gw->on_request("route", frame);
    }
    run();
    for (auto& m : replies) {
      auto id = reply{msgpack::unpack(m.body.data(), m.body.size())}.u64("id");
      out.emplace(id, reply{msgpack::unpack(m.body.data(), m.body.size())});
    }
    replies.clear();
    REQUIRE_MESSAGE(out.size() == reqs.size(),
                    "every request gets its reply once the actors are idle");
    return out;
  }

  reply call(const schemas::request_body& r) {
    auto replies = send_all({r});
    return std::move(replies.begin()->second);
  }
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
  f.merge();
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
  fixture f{3}; // no merge during the test
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
  f.merge();
  auto top = f.call(schemas::top_req{"golf", 10, 0});
  auto entries = top.get("entries").as<std::vector<std::map<std::string, msgpack::object>>>();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0]["player"].as<std::string>() == "b");
  CHECK(entries[1]["score"].as<int64_t>() == 70); // asc + best kept 70 over 72
  auto reset = f.call(schemas::reset_req{"golf"});
  REQUIRE(reset.ok());
  CHECK(reset.u64("removed") == 2);
  f.merge();
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
    f.merge();
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
  f.merge();
  CHECK(f.call(schemas::rank_req{"yes", "b", false}).error_code() == "not_found");
  CHECK(f.call(schemas::around_req{"yes", "b", 5}).error_code() == "not_found");
  CHECK(f.call(schemas::ping_req{}).ok());
}

// ===========================================================================
// Update streams: a publisher that falls behind.

namespace {

// Records what the publisher writes.
struct recorded {
  std::vector<std::pair<std::string, std::string>> got;
  bool saw(const std::string& topic) const {
    for (auto& [t, b] : got)
      if (t == topic)
        return true;
    return false;
  }
};

class recording_sink : public actors::update_sink {
public:
  explicit recording_sink(std::shared_ptr<recorded> r) : r_(std::move(r)) {}
  bool publish(std::string_view topic, std::string_view body) override {
    r_->got.emplace_back(std::string(topic), std::string(body));
    return true;
  }

private:
  std::shared_ptr<recorded> r_;
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
  auto rec = std::make_shared<recorded>();
  const uint64_t bound = 64;
  fixture f{2, [rec] { return std::make_unique<recording_sink>(rec); }, bound};
  f.hold(f.svc.publisher); // as if stuck in a write to a stalled transport
  const int events = 2000;
  for (int round = 0; round < events / 500; ++round) {
    std::vector<schemas::request_body> reqs;
    for (int i = 0; i < 500; ++i)
      reqs.push_back(submit("g", "p" + std::to_string(round * 500 + i), i));
    for (auto& [id, r] : f.send_all(reqs)) // every reply comes, publisher or not
      CHECK(r.ok());
    f.merge();
  }
  auto stalled = counts_of(f.call(schemas::stats_req{}));
  CHECK(stalled.published == 0); // it has not run since it stalled
  // Every event changed an entry: a score/ each. At most `bound` got through.
  CHECK(stalled.dropped >= events - bound);

  f.release();
  REQUIRE(f.call(submit("g2", "marker", 1)).ok());
  f.merge();
  REQUIRE(rec->saw("top/g2/"));
  auto after = counts_of(f.call(schemas::stats_req{}));
  // What waited was the bound's worth; the marker's score/, top/ and rank/ after.
  CHECK(after.published <= bound + 3);
  CHECK(after.published + after.dropped >= events + 3);
  // score/ went out in seq order.
  uint64_t last = 0;
  for (auto& [topic, body] : rec->got)
    if (topic.rfind("score/", 0) == 0) {
      auto oh = msgpack::unpack(body.data(), body.size());
      auto seq = reply{std::move(oh)}.u64("seq");
      CHECK(seq > last);
      last = seq;
    }
  CHECK(last > 0);
}

namespace {

// stream_seq of each message on `topic`, in the order written.
std::vector<uint64_t> stream_seqs(const recorded& rec, const std::string& topic) {
  std::vector<uint64_t> out;
  for (auto& [t, body] : rec.got)
    if (t == topic) {
      auto oh = msgpack::unpack(body.data(), body.size());
      out.push_back(reply{std::move(oh)}.u64("stream_seq"));
    }
  return out;
}

// How often a sequence does not go up by exactly one.
size_t jumps(const std::vector<uint64_t>& v) {
  size_t n = 0;
  for (size_t i = 1; i < v.size(); ++i)
    n += v[i] != v[i - 1] + 1 ? 1 : 0;
  return n;
}

} // namespace

TEST_CASE("stream_seq: one count per topic; a drop before the publisher skips one on each") {
  auto rec = std::make_shared<recorded>();
  const uint64_t bound = 64;
  fixture f{2, [rec] { return std::make_unique<recording_sink>(rec); }, bound};
  auto write_both = [&](int64_t score) {
    for (const char* board : {"a", "b"})
      REQUIRE(f.call(submit(board, "p" + std::to_string(score), score)).ok());
    f.merge();
  };
  write_both(1);
  write_both(2);
  CHECK(stream_seqs(*rec, "score/a/") == std::vector<uint64_t>{1, 2});
  CHECK(stream_seqs(*rec, "score/b/") == std::vector<uint64_t>{1, 2});
  CHECK(stream_seqs(*rec, "top/a/") == std::vector<uint64_t>{1, 2});
  // rank/ carries none.
  for (auto& [topic, body] : rec->got)
    if (topic.rfind("rank/", 0) == 0) {
      auto oh = msgpack::unpack(body.data(), body.size());
      CHECK_FALSE(reply{std::move(oh)}.has("stream_seq"));
    }

  // Another board's load while the publisher is stuck: its updates past the
  // bound are dropped before they reach it.
  f.hold(f.svc.publisher);
  std::vector<schemas::request_body> reqs;
  for (int i = 0; i < 300; ++i)
    reqs.push_back(submit("c", "p" + std::to_string(i), i));
  f.send_all(reqs);
  f.merge();
  REQUIRE(counts_of(f.call(schemas::stats_req{})).dropped > 0);
  f.release();
  write_both(3);
  write_both(4);

  // Every topic skipped exactly one number, even those the drop was not on.
  for (const char* topic : {"score/a/", "score/b/", "top/a/", "top/b/"}) {
    CAPTURE(topic);
    auto seqs = stream_seqs(*rec, topic);
    REQUIRE(seqs.size() == 4);
    CHECK(seqs == std::vector<uint64_t>{1, 2, 4, 5});
  }
  // The loaded board's topic: what got through, with the skip at or before
  // the loss, and numbered on from there.
  auto c_seqs = stream_seqs(*rec, "score/c/");
  CHECK(c_seqs.size() < 300);
  if (!c_seqs.empty()) {
    CHECK(c_seqs.front() == 2);
    CHECK(jumps(c_seqs) == 0);
  }
}

namespace {

// Subscriptions as a test scripts them; `joined` is handed out once.
struct scripted_subscriptions {
  std::vector<std::string> prefixes;
  std::vector<std::string> joined;
};

class following_sink : public recording_sink {
public:
  following_sink(std::shared_ptr<recorded> r, std::shared_ptr<scripted_subscriptions> s)
    : recording_sink(std::move(r)), s_(std::move(s)) {}
  std::optional<actors::subscriptions> subscribed() override {
    actors::subscriptions out{s_->prefixes, std::move(s_->joined)};
    s_->joined.clear();
    return out;
  }

private:
  std::shared_ptr<scripted_subscriptions> s_;
};

// The bodies written on exactly `topic`.
std::vector<reply> bodies_on(const recorded& rec, const std::string& topic) {
  std::vector<reply> out;
  for (auto& [t, body] : rec.got)
    if (t == topic)
      out.push_back(reply{msgpack::unpack(body.data(), body.size())});
  return out;
}

} // namespace

TEST_CASE("follow/: the state at once for each new subscriber, then every change, until none "
          "is left") {
  auto rec = std::make_shared<recorded>();
  auto subs = std::make_shared<scripted_subscriptions>();
  fixture f{3, [rec, subs] { return std::make_unique<following_sink>(rec, subs); }};
  REQUIRE(f.call(submit("o", "me", 100)).ok());
  REQUIRE(f.call(submit("o", "other", 50)).ok());
  f.merge();
  // The publisher looks at the subscriptions every 10 ms.
  auto poll = [&] {
    f.sched->advance_time(std::chrono::milliseconds(10));
    f.run();
  };
  const std::string topic = "follow/o/me";
  // Only a prefix naming one player with valid names makes a feed.
  subs->prefixes = {topic, "follow/o/", "follow/o", "follow/bad board/me", "rank/o/me"};
  subs->joined = subs->prefixes;
  poll();
  auto got = bodies_on(*rec, topic);
  REQUIRE(got.size() == 1);
  CHECK(got[0].u64("rank") == 1);
  CHECK(got[0].get("prev_rank").is_nil());
  CHECK(got[0].i64("score") == 100);
  CHECK(got[0].u64("total") == 2);
  CHECK(got[0].u64("stream_seq") == 1);
  for (auto& [t, body] : rec->got)
    if (t.rfind("follow/", 0) == 0)
      CHECK(t == topic);

  // Passed by another player: a message, though "me" did not change.
  REQUIRE(f.call(submit("o", "other", 150)).ok());
  f.merge();
  got = bodies_on(*rec, topic);
  REQUIRE(got.size() == 2);
  CHECK(got[1].u64("rank") == 2);
  CHECK(got[1].u64("prev_rank") == 1);
  CHECK(got[1].u64("stream_seq") == 2);
  // A change elsewhere on the board that leaves it where it is: none.
  REQUIRE(f.call(submit("o", "third", 1)).ok());
  f.merge();
  CHECK(bodies_on(*rec, topic).size() == 2);

  // A second subscriber: the state again, for both.
  subs->joined = {topic};
  poll();
  got = bodies_on(*rec, topic);
  REQUIRE(got.size() == 3);
  CHECK(got[2].u64("rank") == 2);
  CHECK(got[2].u64("prev_rank") == 2);
  CHECK(got[2].u64("total") == 3);
  CHECK(got[2].u64("stream_seq") == 3);

  // Back to 1: the other player goes.
  REQUIRE(f.call(schemas::remove_req{"o", "other"}).ok());
  f.merge();
  got = bodies_on(*rec, topic);
  REQUIRE(got.size() == 4);
  CHECK(got[3].u64("rank") == 1);
  CHECK(got[3].u64("prev_rank") == 2);

  // Nobody follows any more: nothing is produced, and a new follower
  // starts a new count with the state.
  subs->prefixes.clear();
  poll();
  REQUIRE(f.call(submit("o", "top", 1000)).ok());
  f.merge();
  CHECK(bodies_on(*rec, topic).size() == 4);
  subs->prefixes = {topic};
  subs->joined = {topic};
  poll();
  got = bodies_on(*rec, topic);
  REQUIRE(got.size() == 5);
  CHECK(got[4].u64("rank") == 2);
  CHECK(got[4].get("prev_rank").is_nil());
  CHECK(got[4].u64("stream_seq") == 1);
}

TEST_CASE("round_builder: a refused round's seqs are given again") {
  using namespace lb::actors;
  round_builder rounds(2, 10);
  schemas::submit_req s;
  s.board = "b";
  s.player = "p";
  s.score = 5;
  auto seq = rounds.event(
    s,
    [&](uint64_t n) {
      return submit_event{n, s, reply_to{}};
    },
    false);
  CHECK(seq == 11);
  rounds.to_all(freeze_marker{1, rounds.last_seq(), {}});
  CHECK(rounds.current().events.size() == 1);

  // The log refused the round: its event ops go (the gateway answers them),
  // the marker stays, and both seq and marker move back.
  for (auto& ops : rounds.current().ops)
    ops.erase(
      std::remove_if(ops.begin(), ops.end(),
                     [](const shard_op& op) { return std::holds_alternative<submit_event>(op); }),
      ops.end());
  rounds.rewind();
  CHECK(rounds.last_seq() == 10);
  CHECK(rounds.current().events.empty());
  for (auto& [shard, round] : rounds.cut()) {
    CHECK(round.last_seq == 10);
    REQUIRE(round.ops.size() == 1);
    CHECK(std::get<freeze_marker>(round.ops[0]).seq == 10);
  }
  CHECK(rounds.event(
          s,
          [&](uint64_t n) {
            return submit_event{n, s, reply_to{}};
          },
          false)
        == 11);
}

// ---------------------------------------------------------------------------
// Paging (actors/paging.hpp), against brute force.

TEST_CASE("paging: name_picker gives the smallest distinct names above `after`") {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> names; // with repeats (one per shard), in any order
    const auto n = rng() % 300;
    for (uint32_t i = 0; i < n; ++i)
      names.push_back("b" + std::to_string(rng() % 150));
    const std::set<std::string> distinct(names.begin(), names.end());
    std::optional<std::string> after;
    if (rng() % 3 != 0)
      after = "b" + std::to_string(rng() % 160);
    const uint32_t limit = 1 + rng() % 40;
    actors::name_picker pick(after, limit);
    for (const auto& x : names)
      pick.offer(x);
    bool more = false;
    const auto page = pick.page(more);
    std::vector<std::string> want;
    auto it = after ? distinct.upper_bound(*after) : distinct.begin();
    for (; it != distinct.end() && want.size() < limit; ++it)
      want.push_back(*it);
    CHECK(std::vector<std::string>(page.begin(), page.end()) == want);
    CHECK(more == (it != distinct.end()));
  }
}

TEST_CASE("paging: top pages after a cursor over several parts") {
  std::mt19937_64 rng(11);
  std::vector<ranking::order_tree> trees(3);
  std::vector<ranking::rank_key> all;
  for (uint64_t seq = 1; seq <= 500; ++seq) {
    const ranking::rank_key k{rng() % 20, rng() % 3, seq}; // many equal scores
    trees[rng() % 3].insert(
      k, ranking::rec_ptr(ranking::entry_rec::make("p" + std::to_string(seq), std::nullopt)));
    all.push_back(k);
  }
  std::sort(all.begin(), all.end());
  std::vector<const ranking::tree_reader*> parts;
  for (auto& t : trees)
    parts.push_back(&t);
  auto page = [&](const schemas::top_req& q) {
    schemas::entries_reply r;
    actors::fill_top_page(parts, q, schemas::board_order::asc, r);
    CHECK(r.paged);
    CHECK(r.total == all.size());
    return r;
  };
  // From places on the board and between them, before it and past it.
  for (int i = 0; i < 300; ++i) {
    const ranking::rank_key after = i % 3 == 0
                                      ? all[rng() % all.size()]
                                      : ranking::rank_key{rng() % 22, rng() % 4, rng() % 520};
    const auto first
      = static_cast<size_t>(std::upper_bound(all.begin(), all.end(), after) - all.begin());
    schemas::top_req q;
    q.limit = static_cast<uint32_t>(1 + rng() % 30);
    q.after = actors::cursor_of(after);
    const auto r = page(q);
    const size_t n = std::min<size_t>(q.limit, all.size() - first);
    REQUIRE(r.entries.size() == n);
    for (size_t j = 0; j < n; ++j) {
      CHECK(r.entries[j].rank == first + j + 1);
      CHECK(r.entries[j].player == "p" + std::to_string(all[first + j].seq));
    }
    REQUIRE(r.next.has_value() == (first + n < all.size()));
    if (r.next)
      CHECK(actors::key_of(*r.next) == all[first + n - 1]);
  }
  // A walk by cursor lists every entry once, in order, like offsets do.
  schemas::top_req q;
  q.limit = 7;
  std::vector<uint64_t> ranks;
  for (;;) {
    const auto r = page(q);
    schemas::top_req by_offset;
    by_offset.limit = q.limit;
    by_offset.offset = ranks.size();
    const auto o = page(by_offset);
    REQUIRE(o.entries.size() == r.entries.size());
    for (size_t j = 0; j < r.entries.size(); ++j) {
      CHECK(o.entries[j].player == r.entries[j].player);
      ranks.push_back(r.entries[j].rank);
    }
    CHECK(o.next == r.next);
    if (!r.next)
      break;
    q.after = r.next;
  }
  REQUIRE(ranks.size() == all.size());
  for (size_t j = 0; j < ranks.size(); ++j)
    CHECK(ranks[j] == j + 1);
}
