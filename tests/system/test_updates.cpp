// Update streams end to end (PROTOCOL.md section 5): the real leaderboardd,
// real SUB sockets, and the service's own replies as the reference.
//
// With --top-k at least the board's size, every merge that changes a board
// publishes its whole board on top/, so the tests see every merged view and
// can derive from them exactly which rank/ messages each merge must send.
//
// Also run under ThreadSanitizer (LBD_TEST_SCALE=tsan): loads shrink.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

// What a submit reply (or a batch item's) said.
struct scored {
  uint64_t seq = 0;
  std::string player;
  int64_t score = 0, subscore = 0;
  bool changed = false;
};

void note_submit(const msgpack::object& o, std::vector<scored>& out) {
  scored s;
  s.seq = at(o, "seq").as<uint64_t>();
  s.player = at(o, "player").as<std::string>();
  s.score = at(o, "score").as<int64_t>();
  s.subscore = at(o, "subscore").as<int64_t>();
  s.changed = at(o, "changed").as<bool>();
  out.push_back(std::move(s));
}

// The load one client sends and what it got back; checked on the main thread.
struct client_load {
  std::vector<scored> submits;
  std::vector<uint64_t> remove_seqs;
  std::string failure;
};

// Submits (single and in batches of 8) and a few removes on `board`, pipelined.
client_load run_load(server& s, const std::string& board, size_t players, size_t requests,
                     uint64_t seed) {
  client_load out;
  try {
    std::mt19937_64 rng{seed};
    auto player = [&] { return "p" + std::to_string(rng() % players); };
    auto score = [&] { return static_cast<int64_t>(rng() % 1'000'000'000); };
    std::vector<body> bodies;
    for (size_t i = 0; i < requests; ++i) {
      auto dice = rng() % 100;
      if (dice < 4) {
        bodies.push_back(remove(board, player()));
      } else if (dice < 14) {
        std::vector<body> items;
        for (int k = 0; k < 8; ++k)
          items.push_back(submit_item(board, player(), score(), int64_t(rng() % 3)));
        bodies.push_back(batch(items));
      } else {
        bodies.push_back(submit(board, player(), score(), int64_t(rng() % 3)));
      }
    }
    client c(s.ctx(), s.requests());
    auto replies = c.call_all(bodies, 32);
    for (auto& r : replies) {
      if (!r.ok())
        throw reply_error("an error reply: " + r.text());
      if (r.has("results")) {
        auto& a = r.at("results");
        for (uint32_t i = 0; i < a.via.array.size; ++i)
          note_submit(a.via.array.ptr[i], out.submits);
      } else if (r.has("removed")) {
        if (r.flag("removed"))
          out.remove_seqs.push_back(r.u64("seq"));
      } else {
        note_submit(r.root(), out.submits);
      }
    }
  } catch (const std::exception& e) {
    out.failure = e.what();
  }
  return out;
}

// The messages of one kind and board, in arrival order.
std::vector<update> on(const std::vector<update>& all, const std::string& prefix) {
  std::vector<update> out;
  for (auto& u : all)
    if (u.topic.rfind(prefix, 0) == 0)
      out.push_back(u);
  return out;
}

std::optional<uint64_t> opt_u64(const reply& r, const std::string& key) {
  if (r.is_nil(key))
    return std::nullopt;
  return r.u64(key);
}

std::string show(const std::optional<uint64_t>& v) {
  return v ? std::to_string(*v) : "nil";
}

const msgpack::object& updates_stats(const reply& st) {
  return st.at("updates");
}

} // namespace

// ===========================================================================

TEST_CASE("after a concurrent load, every stream agrees with the replies") {
  const size_t players = 300; // <= --top-k: top/ carries the whole board
  server s{make_server_options(3, 20, {"--top-k=1000", "--updates-hwm=10000000"})};
  subscriber sub(s.ctx(), s.updates(), {"top/load/", "rank/load/", "score/load/"});
  client c(s.ctx(), s.requests());
  auto got = sub.sync(c);
  CHECK(got.empty()); // nothing on the load board yet

  const size_t clients = 4, per_client = scaled(2500);
  std::vector<client_load> loads(clients);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < clients; ++i)
    threads.emplace_back([&, i] { loads[i] = run_load(s, "load", players, per_client, 7 + i); });
  for (auto& t : threads)
    t.join();
  for (auto& l : loads)
    REQUIRE_MESSAGE(l.failure.empty(), l.failure);
  // The last event: a new best, so the last top/ is the board as it ends.
  auto winner = c.call(submit("load", "winner", 2'000'000'000));
  REQUIRE(winner.ok());

  auto more = sub.sync(c);
  got.insert(got.end(), more.begin(), more.end());

  std::vector<scored> submits{{winner.u64("seq"), "winner", 2'000'000'000, 0, true}};
  std::set<uint64_t> removes;
  for (auto& l : loads) {
    submits.insert(submits.end(), l.submits.begin(), l.submits.end());
    removes.insert(l.remove_seqs.begin(), l.remove_seqs.end());
  }
  std::sort(submits.begin(), submits.end(),
            [](const scored& a, const scored& b) { return a.seq < b.seq; });

  SUBCASE("score/: one per changing event, in seq order, as the replies said") {
    auto scores = on(got, "score/load/");
    std::vector<scored> changed;
    for (auto& x : submits)
      if (x.changed)
        changed.push_back(x);
    REQUIRE(scores.size() == changed.size());
    for (size_t i = 0; i < scores.size(); ++i) {
      auto& b = scores[i].body;
      CHECK(scores[i].topic == "score/load/");
      CHECK(b.keys()
            == std::set<std::string>{"seq", "board", "player", "score", "subscore", "stream_seq"});
      CHECK(b.u64("seq") == changed[i].seq);
      CHECK(b.str("board") == "load");
      CHECK(b.str("player") == changed[i].player);
      CHECK(b.i64("score") == changed[i].score);
      CHECK(b.i64("subscore") == changed[i].subscore);
    }
  }

  SUBCASE("top/: the last one is the top reply") {
    auto tops = on(got, "top/load/");
    REQUIRE_FALSE(tops.empty());
    auto& last = tops.back().body;
    CHECK(last.keys() == std::set<std::string>{"board", "seq", "total", "entries", "stream_seq"});
    auto now = c.call(top("load", 1000));
    CHECK(last.entries() == now.entries());
    CHECK(last.u64("total") == now.u64("total"));
    CHECK(last.u64("seq") >= winner.u64("seq"));
    CHECK(last.entries().front().player == "winner");
    for (size_t i = 1; i < tops.size(); ++i)
      CHECK(tops[i - 1].body.u64("seq") < tops[i].body.u64("seq"));
  }

  SUBCASE("rank/: exactly the changed players whose rank moved, at every merge") {
    // Each top/ is a whole merged view of the board. Between two consecutive
    // ones, the players whose entry changed (appeared, went, or got another
    // score) must get a rank/ at the second one's seq exactly when their rank
    // there differs from the last rank/ they got; no one else may get one.
    auto tops = on(got, "top/load/");
    std::map<uint64_t, std::map<std::string, reply>> ranks_at; // seq -> player -> body
    for (auto& u : on(got, "rank/load/")) {
      auto player = u.body.str("player");
      CHECK(u.topic == "rank/load/" + player);
      CHECK(u.body.keys()
            == std::set<std::string>{"board", "player", "score", "subscore", "rank", "prev_rank",
                                     "seq"});
      auto fresh = ranks_at[u.body.u64("seq")].emplace(player, u.body).second;
      CHECK_MESSAGE(fresh, "two rank/ for " << player << " in one merge");
    }
    std::map<std::string, entry> before; // the previous view
    std::map<std::string, uint64_t> published;
    size_t checked = 0;
    for (auto& t : tops) {
      auto seq = t.body.u64("seq");
      std::map<std::string, entry> after;
      for (auto& e : t.body.entries())
        after[e.player] = e;
      REQUIRE(after.size() == t.body.u64("total"));
      std::set<std::string> changed;
      for (auto& [p, e] : after)
        if (!before.count(p) || before[p].score != e.score || before[p].subscore != e.subscore)
          changed.insert(p);
      for (auto& [p, e] : before)
        if (!after.count(p))
          changed.insert(p);
      auto sent = ranks_at[seq];
      for (auto& p : changed) {
        std::optional<uint64_t> rank;
        if (after.count(p))
          rank = after[p].rank;
        std::optional<uint64_t> last;
        if (published.count(p))
          last = published[p];
        auto i = sent.find(p);
        if (rank == last) {
          CHECK_MESSAGE(i == sent.end(), p << " got a rank/ at seq " << seq
                                           << " with its rank unchanged at " << show(rank));
          continue;
        }
        REQUIRE_MESSAGE(i != sent.end(), "no rank/ for " << p << " at seq " << seq << ": rank "
                                                         << show(rank) << ", last published "
                                                         << show(last));
        auto& b = i->second;
        CHECK(opt_u64(b, "rank") == rank);
        CHECK(opt_u64(b, "prev_rank") == last);
        const auto& shown = rank ? after[p] : before[p]; // gone: as last seen
        CHECK(b.i64("score") == shown.score);
        CHECK(b.i64("subscore") == shown.subscore);
        if (rank)
          published[p] = *rank;
        else
          published.erase(p);
        sent.erase(i);
        ++checked;
      }
      for (auto& [p, b] : sent)
        FAIL_CHECK("a rank/ for " << p << " at seq " << seq << ", which did not change");
      ranks_at.erase(seq);
      before = std::move(after);
    }
    for (auto& [seq, sent] : ranks_at)
      FAIL_CHECK(sent.size() << " rank/ at seq " << seq << ", where no top/ shows a change");
    CHECK(checked > players / 2);

    // After quiescence the last view's ranks are the exact ones, and so is
    // the rank/ the last merge sent for the winner.
    for (auto& [p, e] : before)
      CHECK(c.call(rank("load", p, true)).u64("rank") == e.rank);
    CHECK(published["winner"] == c.call(rank("load", "winner", true)).u64("rank"));
  }

  auto st = c.call(stats());
  CHECK(at(updates_stats(st), "dropped").as<uint64_t>() == 0);
  CHECK(at(updates_stats(st), "published").as<uint64_t>() >= got.size());
}

TEST_CASE("a reset publishes an empty top/ and rank nil for every player") {
  server s{make_server_options(3, 20)}; // default --top-k=10
  subscriber sub(s.ctx(), s.updates(), {"top/r/", "rank/r/"});
  subscriber prefix(s.ctx(), s.updates(), {"rank/r/p1"});
  client c(s.ctx(), s.requests());
  sub.sync(c);
  prefix.sync(c);

  std::vector<body> items;
  for (int i = 1; i <= 30; ++i)
    items.push_back(submit_item("r", "p" + std::to_string(i), 100 + i));
  REQUIRE(c.call(batch(items)).ok());
  auto got = sub.sync(c);
  // One merge (a batch is never split by a cut): one top/ of the best 10 and
  // a rank/ for each new player.
  auto tops = on(got, "top/r/");
  REQUIRE(tops.size() == 1);
  CHECK(tops[0].body.u64("total") == 30);
  auto first = tops[0].body.entries();
  REQUIRE(first.size() == 10);
  CHECK(first.front().player == "p30");
  CHECK(first.back().player == "p21");
  std::map<std::string, uint64_t> ranks;
  for (auto& u : on(got, "rank/r/")) {
    CHECK(u.body.is_nil("prev_rank"));
    ranks[u.body.str("player")] = u.body.u64("rank");
  }
  REQUIRE(ranks.size() == 30);
  for (int i = 1; i <= 30; ++i)
    CHECK(ranks["p" + std::to_string(i)] == uint64_t(31 - i));

  // The prefix caveat: rank/r/p1 also delivers p10..p19.
  auto p1 = prefix.sync(c);
  std::set<std::string> p1_players;
  for (auto& u : p1)
    p1_players.insert(u.body.str("player"));
  CHECK(p1_players
        == std::set<std::string>{"p1", "p10", "p11", "p12", "p13", "p14", "p15", "p16", "p17",
                                 "p18", "p19"});

  // Below the top 10: a rank/ for the newcomer, no top/.
  REQUIRE(c.call(submit("r", "low", 1)).ok());
  got = sub.sync(c);
  CHECK(on(got, "top/r/").empty());
  auto low = on(got, "rank/r/");
  REQUIRE(low.size() == 1);
  CHECK(low[0].body.str("player") == "low");
  CHECK(low[0].body.u64("rank") == 31);
  ranks["low"] = 31;

  auto reset_reply = c.call(reset("r"));
  REQUIRE(reset_reply.ok());
  CHECK(reset_reply.u64("removed") == 31);
  got = sub.sync(c);
  tops = on(got, "top/r/");
  REQUIRE(tops.size() == 1);
  CHECK(tops[0].body.u64("total") == 0);
  CHECK(tops[0].body.entries().empty());
  CHECK(tops[0].body.u64("seq") >= reset_reply.u64("seq"));
  std::set<std::string> gone;
  for (auto& u : on(got, "rank/r/")) {
    auto p = u.body.str("player");
    CHECK(u.body.is_nil("rank"));
    CHECK(u.body.u64("prev_rank") == ranks[p]);
    CHECK(u.body.i64("score") == (p == "low" ? 1 : 100 + std::stoi(p.substr(1))));
    CHECK(u.body.u64("seq") == tops[0].body.u64("seq"));
    gone.insert(p);
  }
  CHECK(gone.size() == 31);

  // Back after the reset: new again.
  REQUIRE(c.call(submit("r", "p5", 7)).ok());
  got = sub.sync(c);
  auto back = on(got, "rank/r/");
  REQUIRE(back.size() == 1);
  CHECK(back[0].body.str("player") == "p5");
  CHECK(back[0].body.u64("rank") == 1);
  CHECK(back[0].body.is_nil("prev_rank"));
  tops = on(got, "top/r/");
  REQUIRE(tops.size() == 1);
  CHECK(tops[0].body.u64("total") == 1);
}

TEST_CASE("a removed and re-added player keeps its prev_rank across merges") {
  server s{make_server_options(3, 20)};
  subscriber sub(s.ctx(), s.updates(), {"rank/x/"});
  client c(s.ctx(), s.requests());
  sub.sync(c);
  // One batch, so one merge: a's last rank/ says 2. Two submits could fall
  // into two merges (a slow, sanitized run), and a's would say 1, which is
  // also its rank when it comes back below.
  REQUIRE(c.call(batch({submit_item("x", "a", 10), submit_item("x", "b", 20)})).ok());
  auto got = sub.sync(c);
  REQUIRE(got.size() == 2);
  // Removed and back with a better score within one merge: one rank/, its
  // prev_rank the rank published before the removal.
  REQUIRE(c.call(batch({submit_item("x", "c", 5)})).ok());
  sub.sync(c);
  REQUIRE(c.call(remove("x", "a")).ok());
  REQUIRE(c.call(submit("x", "a", 30)).ok());
  got = sub.sync(c);
  CHECK(on(got, "rank/x/b").empty()); // moved down, but did not change
  auto a = on(got, "rank/x/a");
  REQUIRE(a.size() == got.size());
  if (a.size() == 1) { // remove and re-add fell into one merge
    CHECK(a[0].body.u64("rank") == 1);
    CHECK(a[0].body.u64("prev_rank") == 2);
  } else { // two merges: rank nil, then new
    REQUIRE(a.size() == 2);
    CHECK(a[0].body.is_nil("rank"));
    CHECK(a[0].body.u64("prev_rank") == 2);
    CHECK(a[0].body.i64("score") == 10);
    CHECK(a[1].body.u64("rank") == 1);
    CHECK(a[1].body.is_nil("prev_rank"));
  }
}

TEST_CASE("streams nobody subscribes to are not produced, and start with a subscriber") {
  server s{make_server_options(2, 20)};
  client c(s.ctx(), s.requests());
  for (int i = 0; i < 300; ++i)
    REQUIRE(c.call(submit("quiet", "p" + std::to_string(i), i)).ok());
  // Several timer merges after the submits, each of which would produce them.
  auto merges = [&] { return at(c.call(stats()).at("merges"), "count").as<uint64_t>(); };
  const uint64_t merges_before = merges();
  REQUIRE(wait_until(patience(10s), [&] { return merges() >= merges_before + 5; }));
  auto st = c.call(stats());
  REQUIRE(st.ok());
  // Produced, these would be 300 score/, up to 300 rank/ and some top/.
  CHECK(at(updates_stats(st), "published").as<uint64_t>() == 0);
  CHECK(at(updates_stats(st), "dropped").as<uint64_t>() == 0);

  subscriber sub(s.ctx(), s.updates(), {"score/quiet/"});
  sub.sync(c);
  REQUIRE(c.call(submit("quiet", "late", 1'000'000)).ok());
  auto scores = on(sub.sync(c), "score/quiet/");
  REQUIRE(scores.size() == 1);
  CHECK(scores[0].body.str("player") == "late");
}

TEST_CASE("a subscriber that never reads neither stalls the service nor grows its memory") {
  // A small high-water mark, so that what ZeroMQ may queue for the stalled
  // subscriber is small next to what the load publishes.
  server s{make_server_options(3, 20, {"--updates-hwm=1000"})};
  // Never read: this SUB takes one message into its own queue, then the
  // kernel's buffers fill, then the service's PUB queue, then ZeroMQ drops.
  lb::transport::update_subscriber stalled(s.ctx(), s.updates(), {""}, 1);
  subscriber live(s.ctx(), s.updates(), {"top/m/"});
  client c(s.ctx(), s.requests());
  live.sync(c);

  const size_t players = 1000;
  int64_t next_score = 0;
  // Every item raises a player's score, so every event publishes a score/.
  auto load = [&](size_t events) {
    std::vector<body> batches;
    for (size_t done = 0; done < events;) {
      std::vector<body> items;
      for (size_t k = 0; k < 1000 && done < events; ++k, ++done)
        items.push_back(submit_item("m", "p" + std::to_string(done % players), ++next_score));
      batches.push_back(batch(items));
    }
    // Every reply must come back (call_all throws if one does not).
    auto replies = c.call_all(batches, 4);
    for (auto& r : replies)
      REQUIRE(r.ok());
    return replies.size();
  };
  load(scaled(50000)); // the board and the service's buffers reach their working size
  live.sync(c);
  auto before = vm_rss_kib(s.pid());
  auto stats_before = c.call(stats());

  const size_t events = scaled(400000);
  CHECK(load(events) * 1000 >= events);
  live.sync(c); // every update of the load has been published
  auto after = vm_rss_kib(s.pid());
  auto stats_after = c.call(stats());

  auto published = at(updates_stats(stats_after), "published").as<uint64_t>()
                   - at(updates_stats(stats_before), "published").as<uint64_t>();
  auto dropped = at(updates_stats(stats_after), "dropped").as<uint64_t>()
                 - at(updates_stats(stats_before), "dropped").as<uint64_t>();
  // Each event changed an entry: a score/ each, besides rank/ and top/.
  CHECK(published + dropped >= events);
  // Had ZeroMQ kept every message for the stalled subscriber, the service
  // would have grown by ~90 MB at full scale (measured with
  // --updates-hwm=10000000), ~60 MB at the ThreadSanitizer scale; with the
  // mark it grows by a few MB (~10 under ThreadSanitizer). The bounds leave
  // room for allocator slack but not for the queue.
  auto grown_kib = after > before ? after - before : 0;
  MESSAGE("VmRSS " << before << " KiB -> " << after << " KiB after " << events
                   << " events; published " << published << ", dropped " << dropped);
  CHECK(grown_kib < (lb::e2e::under_tsan() ? 32 * 1024u : 16 * 1024u));
  CHECK(c.call(ping()).ok());
  (void) stalled;
}

// ===========================================================================
// follow/ and stream_seq (PROTOCOL.md section 5, extensions A and C).

namespace {

// One follow/ message, as the checks need it.
struct followed {
  uint64_t seq = 0, stream_seq = 0, total = 0;
  std::optional<uint64_t> rank, prev_rank;
  std::optional<int64_t> score, subscore;
};

followed follow_of(const update& u) {
  const auto& b = u.body;
  CHECK(b.keys()
        == std::set<std::string>{"board", "player", "rank", "prev_rank", "score", "subscore",
                                 "total", "seq", "stream_seq"});
  followed f;
  f.seq = b.u64("seq");
  f.stream_seq = b.u64("stream_seq");
  f.total = b.u64("total");
  f.rank = opt_u64(b, "rank");
  f.prev_rank = opt_u64(b, "prev_rank");
  if (!b.is_nil("score"))
    f.score = b.i64("score");
  if (!b.is_nil("subscore"))
    f.subscore = b.i64("subscore");
  return f;
}

// The follow/ messages of exactly `topic` (a prefix subscription may
// deliver longer names' too).
std::vector<followed> follows_on(const std::vector<update>& all, const std::string& topic) {
  std::vector<followed> out;
  for (auto& u : all)
    if (u.topic == topic)
      out.push_back(follow_of(u));
  return out;
}

// Receives until `n` messages of `topic` are in, or the patience runs out.
std::vector<update> receive_on(subscriber& sub, const std::string& topic, size_t n,
                               std::chrono::milliseconds limit) {
  std::vector<update> got;
  size_t seen = 0;
  auto give_up = std::chrono::steady_clock::now() + patience(limit);
  while (seen < n && std::chrono::steady_clock::now() < give_up) {
    auto u = sub.receive(50ms);
    if (!u || subscriber::is_sync(u->topic))
      continue;
    seen += u->topic == topic ? 1 : 0;
    got.push_back(std::move(*u));
  }
  return got;
}

// What `around` with radius 0 and `exact: false` said: the player in the
// merged view cut at `seq`, from the shard that owns it (the shard whose
// follow/ messages it checks).
struct sample {
  uint64_t seq = 0;
  uint64_t rank = 0;
  int64_t score = 0, subscore = 0;
};

// Returns once every shard's merged view holds every event acknowledged
// before the call (subscriber::sync: the rank/ of a fresh board come from
// every shard after it took the view), so that a follower's first message
// is the state the replies know.
void settle_views(server& s, client& c) {
  subscriber barrier(s.ctx(), s.updates(), {});
  barrier.sync(c);
}

body merged_around(const std::string& board, const std::string& player) {
  auto b = around(board, player, 0);
  b.set("exact", false);
  return b;
}

// Consecutive stream_seqs of each topic: 1, 2, 3, ... for a subscriber
// that was there from the topic's first message.
void check_contiguous(const std::vector<update>& got, const std::string& topic) {
  uint64_t expect = 1;
  for (auto& u : got)
    if (u.topic == topic) {
      REQUIRE_MESSAGE(u.body.has("stream_seq"), topic);
      CHECK_MESSAGE(u.body.u64("stream_seq") == expect, topic << " message " << expect);
      expect = u.body.u64("stream_seq") + 1;
    }
  CHECK_MESSAGE(expect > 1, "no message on " << topic);
}

} // namespace

TEST_CASE("follow/: a late follower agrees with the merged view after every merge, under "
          "concurrent writers") {
  server s{make_server_options(3, 20)};
  client c(s.ctx(), s.requests());
  // `set`: the writers move others below the followed player as well as
  // above it.
  REQUIRE(c.call(configure("f", std::nullopt, std::string("set"))).ok());
  const int64_t mine = 500'000;
  const size_t others = 60;
  auto other = [](size_t w, size_t k) { return "w" + std::to_string(w) + "-" + std::to_string(k); };
  {
    // Many events before the follower joins.
    std::vector<body> items;
    std::mt19937_64 rng{3};
    for (size_t i = 0; i < scaled(3000); ++i) {
      items.push_back(
        submit_item("f", other(i % 3, rng() % others), static_cast<int64_t>(rng() % 1'000'000)));
      if (items.size() == 500) {
        REQUIRE(c.call(batch(items)).ok());
        items.clear();
      }
    }
    if (!items.empty())
      REQUIRE(c.call(batch(items)).ok());
  }
  REQUIRE(c.call(submit("f", "me", mine, 1)).ok());
  settle_views(s, c);

  const std::string topic = "follow/f/me";
  subscriber sub(s.ctx(), s.updates(), {topic});
  // The first message is the current state: where `rank` puts the player.
  auto first = receive_on(sub, topic, 1, 10s);
  auto start = follows_on(first, topic);
  REQUIRE(start.size() == 1);
  auto exact = c.call(rank("f", "me", true));
  CHECK(start[0].rank == exact.u64("rank"));
  CHECK(start[0].score == mine);
  CHECK(start[0].subscore == 1);
  CHECK(start[0].total == exact.u64("total"));
  CHECK_FALSE(start[0].prev_rank);
  CHECK(start[0].stream_seq == 1);

  // Three writers move their players past the followed one and back, while
  // this thread samples the merged view.
  std::atomic<bool> stop{false};
  std::vector<std::string> failures(3);
  std::vector<std::thread> writers;
  for (size_t w = 0; w < 3; ++w)
    writers.emplace_back([&, w] {
      try {
        client wc(s.ctx(), s.requests());
        std::mt19937_64 rng{100 + w};
        for (size_t round = 0; round < scaled(120) && !stop; ++round) {
          std::vector<body> bodies;
          for (int i = 0; i < 20; ++i) {
            auto p = other(w, rng() % others);
            if (rng() % 20 == 0)
              bodies.push_back(remove("f", p));
            else
              bodies.push_back(submit("f", p, mine - 2000 + static_cast<int64_t>(rng() % 4000),
                                      int64_t(rng() % 3)));
          }
          for (auto& r : wc.call_all(bodies, 8))
            if (!r.ok())
              throw reply_error("an error reply: " + r.text());
          std::this_thread::sleep_for(2ms);
        }
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  std::vector<sample> samples;
  std::atomic<size_t> running{writers.size()};
  std::thread joiner([&] {
    for (auto& t : writers)
      t.join();
    running = 0;
  });
  std::vector<update> got = first;
  while (running > 0) {
    auto r = c.call(merged_around("f", "me"));
    REQUIRE(r.ok());
    auto es = r.entries();
    REQUIRE(es.size() == 1);
    CHECK(es[0].player == "me");
    samples.push_back(sample{r.u64("seq"), es[0].rank, es[0].score, es[0].subscore});
    while (auto u = sub.receive(0ms))
      if (!subscriber::is_sync(u->topic))
        got.push_back(std::move(*u));
    std::this_thread::sleep_for(3ms);
  }
  joiner.join();
  stop = true;
  for (auto& f : failures)
    REQUIRE_MESSAGE(f.empty(), f);

  // Writers done: after a merge, the last message is the exact state.
  auto more = sub.sync(c);
  got.insert(got.end(), more.begin(), more.end());
  auto feed = follows_on(got, topic);
  REQUIRE(feed.size() > 1);

  // The feed on its own: numbered 1, 2, ...; each message chains to the
  // previous one's rank and says something new; views in order.
  for (size_t i = 1; i < feed.size(); ++i) {
    CAPTURE(i);
    CHECK(feed[i].stream_seq == feed[i - 1].stream_seq + 1);
    CHECK(feed[i].prev_rank == feed[i - 1].rank);
    CHECK(feed[i].seq > feed[i - 1].seq);
    CHECK((feed[i].rank != feed[i - 1].rank || feed[i].score != feed[i - 1].score
           || feed[i].subscore != feed[i - 1].subscore));
    CHECK(feed[i].score == mine); // only the others move
  }
  // Every merged view the sampler read: the player's rank there is what
  // the feed's latest message up to that view says.
  size_t checked = 0;
  std::set<uint64_t> views;
  for (auto& smp : samples) {
    auto at_view = std::upper_bound(feed.begin(), feed.end(), smp.seq,
                                    [](uint64_t seq, const followed& f) { return seq < f.seq; });
    if (at_view == feed.begin())
      continue; // a view older than the follower's first message
    --at_view;
    CAPTURE(smp.seq);
    CHECK(at_view->rank == smp.rank);
    CHECK(at_view->score == smp.score);
    CHECK(at_view->subscore == smp.subscore);
    views.insert(smp.seq);
    ++checked;
  }
  MESSAGE(feed.size() << " follow/ messages, " << checked << " samples in " << views.size()
                      << " merged views");
  CHECK(views.size() >= 5);
  std::set<std::optional<uint64_t>> ranks_seen;
  for (auto& f : feed)
    ranks_seen.insert(f.rank);
  CHECK(ranks_seen.size() >= 3); // the writers did move it

  auto now = c.call(rank("f", "me", true));
  CHECK(feed.back().rank == now.u64("rank"));
  CHECK(feed.back().score == now.i64("score"));
  CHECK(feed.back().subscore == now.i64("subscore"));
}

TEST_CASE("follow/: 1 -> 2 -> 1 by another player's moves, removal and return") {
  server s{make_server_options(3, 20)};
  client c(s.ctx(), s.requests());
  REQUIRE(c.call(configure("o", std::nullopt, std::string("set"))).ok());
  REQUIRE(c.call(submit("o", "me", 100)).ok());
  REQUIRE(c.call(submit("o", "other", 50)).ok());
  settle_views(s, c);
  const std::string topic = "follow/o/me";
  subscriber sub(s.ctx(), s.updates(), {topic});
  auto feed = follows_on(receive_on(sub, topic, 1, 10s), topic);
  REQUIRE(feed.size() == 1);
  CHECK(feed[0].rank == 1u);
  CHECK(feed[0].total == 2);
  sub.sync(c);

  // Passed, then passed back: each move is a message, though "me" never
  // changed (rank/o/me gets none of them).
  auto step = [&](body b) {
    REQUIRE(c.call(std::move(b)).ok());
    auto got = follows_on(sub.sync(c), topic);
    REQUIRE(got.size() == 1);
    return got[0];
  };
  auto two = step(submit("o", "other", 150));
  CHECK(two.rank == 2u);
  CHECK(two.prev_rank == 1u);
  CHECK(two.score == 100);
  auto one = step(submit("o", "other", 10));
  CHECK(one.rank == 1u);
  CHECK(one.prev_rank == 2u);
  // Removed: nil rank and score; back: a rank again.
  auto gone = step(remove("o", "me"));
  CHECK_FALSE(gone.rank);
  CHECK(gone.prev_rank == 1u);
  CHECK_FALSE(gone.score);
  CHECK(gone.total == 1);
  auto back = step(submit("o", "me", 5));
  CHECK(back.rank == 2u);
  CHECK_FALSE(back.prev_rank);
  CHECK(back.score == 5);
  // A reset removes it too.
  auto reset_out = step(reset("o"));
  CHECK_FALSE(reset_out.rank);
  CHECK(reset_out.total == 0);
  CHECK(reset_out.stream_seq == 6);
  // Unrelated changes that leave it where it is send nothing.
  REQUIRE(c.call(submit("o", "third", 1)).ok());
  CHECK(follows_on(sub.sync(c), topic).empty());

  // A board nobody has: nil rank, total 0.
  subscriber nothing(s.ctx(), s.updates(), {"follow/nowhere/me"});
  auto none = follows_on(receive_on(nothing, "follow/nowhere/me", 1, 10s), "follow/nowhere/me");
  REQUIRE(none.size() == 1);
  CHECK_FALSE(none[0].rank);
  CHECK(none[0].total == 0);
}

TEST_CASE("stream_seq: contiguous per topic on two boards under load; a second follower gets "
          "the current state") {
  server s{make_server_options(3, 20, {"--updates-hwm=10000000"})};
  client c(s.ctx(), s.requests());
  subscriber sub(s.ctx(), s.updates(), {"score/b1/", "score/b2/", "top/b1/", "top/b2/"});
  sub.sync(c);
  REQUIRE(c.call(submit("b1", "p7", 1)).ok());
  settle_views(s, c);
  const std::string topic = "follow/b1/p7";
  subscriber first(s.ctx(), s.updates(), {topic});
  auto f1 = follows_on(receive_on(first, topic, 1, 10s), topic);
  REQUIRE(f1.size() == 1);

  std::vector<client_load> loads(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < loads.size(); ++i)
    threads.emplace_back(
      [&, i] { loads[i] = run_load(s, i % 2 == 0 ? "b1" : "b2", 200, scaled(1500), 40 + i); });
  for (auto& t : threads)
    t.join();
  for (auto& l : loads)
    REQUIRE_MESSAGE(l.failure.empty(), l.failure);
  auto got = sub.sync(c);
  for (auto topic_name : {"score/b1/", "score/b2/", "top/b1/", "top/b2/"})
    check_contiguous(got, topic_name);
  // rank/ carries none.
  CHECK(at(updates_stats(c.call(stats())), "dropped").as<uint64_t>() == 0);

  // A second follower of the same topic: the current state comes to both.
  auto before = first.sync(c);
  subscriber second(s.ctx(), s.updates(), {topic});
  auto f2 = follows_on(receive_on(second, topic, 1, 10s), topic);
  REQUIRE(f2.size() == 1);
  auto now = c.call(rank("b1", "p7", true));
  if (now.ok()) {
    CHECK(f2[0].rank == now.u64("rank"));
    CHECK(f2[0].score == now.i64("score"));
  } else {
    CHECK_FALSE(f2[0].rank); // the load removed it
  }
  CHECK(f2[0].total == c.call(top("b1", 1)).u64("total"));
  auto again = follows_on(first.sync(c), topic);
  REQUIRE_FALSE(again.empty());
  CHECK(again.back().stream_seq == f2[0].stream_seq);
  CHECK(again.back().rank == f2[0].rank);
  // The first follower's numbering never jumped.
  std::vector<followed> chain = f1;
  for (auto& f : follows_on(before, topic))
    chain.push_back(f);
  for (auto& f : again)
    chain.push_back(f);
  for (size_t i = 1; i < chain.size(); ++i)
    CHECK(chain[i].stream_seq == chain[i - 1].stream_seq + 1);
}

// ===========================================================================
// lbctl watch, as a person (or a script) runs it.

namespace {

// Runs `lbctl ... watch ...` until stopped; its output lands in a file.
class watcher {
public:
  watcher(server& s, std::vector<std::string> args) {
    out_ = dir_.path() + "/out";
    err_ = dir_.path() + "/err";
    std::vector<std::string> argv = {lbctl_path(), "--endpoint=" + s.requests(),
                                     "--updates=" + s.updates()};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = spawn(argv, out_, err_);
  }
  ~watcher() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait_exit(pid_, 5s);
    }
  }
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

  // Sends `probe(i)` for i = 1, 2, ... until the output shows `seen`: the
  // subscription is live from then on. False after a "no hang" limit.
  template <class Probe>
  bool wait_live(client& c, Probe&& probe, const std::string& seen) {
    int64_t i = 0;
    bool sent = true;
    // A probe every 100 ms at most: one sent before the subscription is
    // live is lost, so the next one must follow.
    const bool live = wait_until(patience(20s), [&] {
      sent = c.call(probe(++i)).ok();
      return !sent || wait_for(seen, 100ms);
    });
    return live && sent;
  }
  // Waits for `text` in the output; false after `limit`.
  bool wait_for(const std::string& text, std::chrono::milliseconds limit = patience(20s)) const {
    return wait_until(
      limit, [&] { return out().find(text) != std::string::npos; }, 20ms);
  }
  // Ctrl-C; the exit status, or nothing if it did not stop.
  std::optional<int> interrupt() {
    ::kill(pid_, SIGINT);
    auto st = wait_exit(pid_, patience(5s));
    if (st)
      pid_ = -1;
    return st;
  }

private:
  temp_dir dir_;
  std::string out_, err_;
  pid_t pid_ = -1;
};

bool exited_ok(const std::optional<int>& st) {
  return st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
}

} // namespace

TEST_CASE("lbctl watch: lines, one player, JSON, a live table; Ctrl-C stops it") {
  server s{make_server_options(3, 20)};
  client c(s.ctx(), s.requests());
  auto probe = [](int64_t i) { return submit("w", "probe", i); };

  SUBCASE("--raw: every message of the board") {
    watcher w(s, {"watch", "w", "--raw"});
    REQUIRE_MESSAGE(w.wait_live(c, probe, "score w probe:"), w.out() << w.err());
    REQUIRE(c.call(submit("w", "alice", 500, 2)).ok());
    CHECK(w.wait_for("rank alice on w: rank 1 (new), score 500 (subscore 2), seq "));
    CHECK(w.wait_for("top w: seq "));
    CHECK(w.wait_for("score w alice: 500/2, seq "));
    CHECK(w.wait_for(": 1 alice 500, 2 probe "));
    CHECK(w.out().find(", stream_seq ") != std::string::npos);
    CHECK(w.out().find("gap: ") == std::string::npos);
    REQUIRE(c.call(remove("w", "alice")).ok());
    CHECK(w.wait_for("rank alice on w: removed (was rank 1)"));
    CHECK(exited_ok(w.interrupt()));
  }
  SUBCASE("--player: only that player, although its topic is a prefix of others'") {
    watcher w(s, {"watch", "w", "--player=pro"});
    // Every other event moves "pro" in or out; "probe" (whose topic the
    // subscription rank/w/pro also matches) is always new to the board.
    auto both = [](int64_t i) {
      if (i % 2 == 0)
        return remove("w", "pro");
      return batch({submit_item("w", "pro", 1), submit_item("w", "probe" + std::to_string(i), 5)});
    };
    REQUIRE_MESSAGE(w.wait_live(c, both, "pro on w: rank "), w.out() << w.err());
    REQUIRE(c.call(remove("w", "pro")).ok());
    CHECK(w.wait_for("pro on w: removed (was rank "));
    CHECK(w.out().find("probe") == std::string::npos);
    CHECK(exited_ok(w.interrupt()));
  }
  SUBCASE("--json: one object per line") {
    watcher w(s, {"--json", "watch", "w"});
    // A new player each time, so each event also publishes a rank/.
    auto fresh = [](int64_t i) { return submit("w", "p" + std::to_string(i), i); };
    REQUIRE_MESSAGE(w.wait_live(c, fresh, R"({"topic":"score/w/","body":{"seq":)"), w.out());
    REQUIRE(c.call(submit("w", "q\"uote", 1)).ok());
    CHECK(w.wait_for(R"({"topic":"rank/w/q\"uote","body":{"board":"w","player":"q\"uote",)"));
    CHECK(w.wait_for(R"({"topic":"top/w/","body":{"board":"w","seq":)"));
    CHECK(exited_ok(w.interrupt()));
  }
  SUBCASE("the table: drawn at once, redrawn on top/") {
    REQUIRE(c.call(submit("w", "first", 10)).ok());
    s.settle();
    watcher w(s, {"watch", "w"});
    REQUIRE(w.wait_for("\x1b[H\x1b[2Jw: 1 entry"));
    CHECK(w.wait_for("first"));
    REQUIRE_MESSAGE(w.wait_live(c, probe, "seq "), w.out());
    CHECK(w.out().find("probe") != std::string::npos);
    CHECK(exited_ok(w.interrupt()));
  }
}

TEST_CASE("lbctl keygen: writes NAME.key and NAME.pub, and never over existing files") {
  temp_dir dir;
  const auto base = dir.path() + "/alice";
  auto r = run_to_exit({lbctl_path(), "keygen", base}, patience(10s));
  REQUIRE(r.status);
  CHECK_MESSAGE(exited_ok(r.status), r.out << r.err);
  const auto secret = read_file(base + ".key"), pub = read_file(base + ".pub");
  CHECK(secret.find("# CURVE secret key") != std::string::npos);
  CHECK(pub.find("# CURVE public key") != std::string::npos);
  // It prints the public key, which is the one in NAME.pub.
  const auto key_at = r.out.find("public key: ");
  REQUIRE(key_at != std::string::npos);
  CHECK(pub.find(r.out.substr(key_at + 12, 40)) != std::string::npos);
  CHECK(r.out.find("--curve-key=" + base + ".key") != std::string::npos);
  struct stat st {};
  REQUIRE(::stat((base + ".key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Again: refused (exit 1), and both files are as they were.
  r = run_to_exit({lbctl_path(), "keygen", base}, patience(10s));
  REQUIRE(r.status);
  CHECK(WIFEXITED(*r.status));
  CHECK(WEXITSTATUS(*r.status) == 1);
  CHECK(r.err.find(base + ".key") != std::string::npos);
  CHECK(read_file(base + ".key") == secret);
  CHECK(read_file(base + ".pub") == pub);

  // NAME is required.
  r = run_to_exit({lbctl_path(), "keygen"}, patience(10s));
  REQUIRE(r.status);
  CHECK(WEXITSTATUS(*r.status) == 2);
}
