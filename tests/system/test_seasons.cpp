// Seasons against the real binary (PROTOCOL.md "Seasons"): rollovers on a
// seconds schedule under concurrent submits, the season/ message, reads of
// closed seasons, retention, a restart across a missed rollover, and the same
// digest whatever the shard count a log is replayed with.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <signal.h>
#include <string>
#include <thread>
#include <vector>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

body with_season(body b, uint32_t season) {
  b.set("season", season);
  return b;
}

body configure_seasons(const std::string& board, const std::string& schedule, uint32_t keep) {
  body b{"configure"};
  b.set("board", board);
  b.set("schedule", schedule);
  b.set("keep", keep);
  return b;
}

body archive(const std::string& board) {
  body b{"reset"};
  b.set("board", board);
  b.set("archive", true);
  return b;
}

body seasons(const std::string& board) {
  body b{"seasons"};
  b.set("board", board);
  return b;
}

std::string message_of(const reply& r) {
  return at(r.at("error"), "message").as<std::string>();
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct season_row {
  uint32_t season = 0;
  std::optional<int64_t> start_ms, end_ms;
  uint64_t start_seq = 0;
  std::optional<uint64_t> end_seq;
  uint64_t total = 0;
  bool current = false;
};

std::optional<int64_t> opt_i64(const msgpack::object& m, const std::string& key) {
  const auto& o = at(m, key);
  if (o.is_nil())
    return std::nullopt;
  return o.as<int64_t>();
}

std::vector<season_row> season_rows(const reply& r) {
  std::vector<season_row> out;
  for (const auto& m : at(r.root(), "seasons").via.array) {
    season_row s;
    s.season = at(m, "season").as<uint32_t>();
    s.start_ms = opt_i64(m, "start_ms");
    s.end_ms = opt_i64(m, "end_ms");
    s.start_seq = at(m, "start_seq").as<uint64_t>();
    if (auto e = opt_i64(m, "end_seq"))
      s.end_seq = static_cast<uint64_t>(*e);
    s.total = at(m, "total").as<uint64_t>();
    s.current = at(m, "current").as<bool>();
    out.push_back(s);
  }
  return out;
}

// Every entry of a closed season, paging through `top` with `season`.
std::vector<entry> read_season(client& c, const std::string& board, uint32_t season) {
  std::vector<entry> out;
  for (uint64_t offset = 0;; offset += 500) {
    auto r = c.call(with_season(top(board, 500, offset), season));
    REQUIRE_MESSAGE(r.ok(), r.text());
    CHECK(r.u64("season") == season);
    auto page = r.entries();
    out.insert(out.end(), page.begin(), page.end());
    if (page.size() < 500) {
      CHECK(out.size() == r.u64("total"));
      return out;
    }
  }
}

struct acked {
  std::string player;
  int64_t score = 0;
  uint64_t seq = 0;
};

} // namespace

TEST_CASE("rollovers every second under concurrent submits: each event in exactly one season") {
  server s{make_server_options(3, 20)};
  client admin(s.ctx(), s.requests());
  const std::string board = "blitz";
  subscriber sub(s.ctx(), s.updates(), {"season/" + board + "/"});
  sub.sync(admin);
  // Every second, as many kept as the test makes.
  REQUIRE(admin.call(configure_seasons(board, "* * * * * *", 100)).ok());

  const int writers = 4;
  const auto run_for = under_tsan() ? 4500ms : 3500ms;
  std::vector<std::vector<acked>> got(writers);
  std::vector<std::string> failures(writers);
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      try {
        client c(s.ctx(), s.requests());
        const auto end = std::chrono::steady_clock::now() + run_for;
        for (int i = 0; std::chrono::steady_clock::now() < end; ++i) {
          const std::string player = "w" + std::to_string(w) + "-" + std::to_string(i);
          auto r = c.call(submit(board, player, (i * 7919 + w) % 1000));
          if (!r.ok()) {
            failures[w] = r.text();
            return;
          }
          got[w].push_back(acked{player, r.i64("score"), r.u64("seq")});
        }
      } catch (const std::exception& e) {
        failures[w] = e.what();
      }
    });
  for (auto& t : threads)
    t.join();
  for (const auto& f : failures)
    REQUIRE_MESSAGE(f.empty(), f);
  // No more rollovers while the seasons are read.
  REQUIRE(admin.call(configure_seasons(board, "", 100)).ok());

  auto listed = admin.call(seasons(board));
  REQUIRE_MESSAGE(listed.ok(), listed.text());
  auto rows = season_rows(listed);
  REQUIRE(rows.size() >= 3); // at least two rollovers in the run
  REQUIRE(rows.back().current);
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    CHECK_FALSE(rows[i].current);
    REQUIRE(rows[i].end_seq);
    CHECK(rows[i + 1].start_seq == *rows[i].end_seq + 1);
    CHECK(rows[i + 1].season == rows[i].season + 1);
    // A scheduled season ends on a whole second.
    REQUIRE(rows[i].end_ms);
    CHECK(*rows[i].end_ms % 1000 == 0);
  }

  // Which season each acknowledged submit belongs to, by its seq.
  std::map<uint32_t, std::vector<acked>> expected;
  size_t all = 0;
  for (const auto& list : got)
    for (const auto& a : list) {
      ++all;
      const season_row* home = nullptr;
      for (const auto& r : rows)
        if (a.seq >= r.start_seq && (!r.end_seq || a.seq < *r.end_seq))
          home = &r;
      REQUIRE_MESSAGE(home, "seq " << a.seq << " is in no season");
      expected[home->season].push_back(a);
    }
  CAPTURE(all);
  uint64_t counted = 0;
  for (const auto& r : rows) {
    const auto want = expected[r.season];
    CHECK_MESSAGE(r.total == want.size(), "season " << r.season);
    counted += r.total;
    if (r.current)
      continue;
    auto entries = read_season(admin, board, r.season);
    std::set<std::string> players;
    for (const auto& e : entries)
      players.insert(e.player);
    for (const auto& a : want)
      CHECK_MESSAGE(players.count(a.player) == 1,
                    a.player << " (seq " << a.seq << ") missing from season " << r.season);
  }
  CHECK(counted == all); // and so none is in two seasons

  // The season/ message of each closed season: its number, total and top
  // 10, equal to what a read of the season gives.
  std::map<uint32_t, update> messages;
  for (auto deadline = std::chrono::steady_clock::now() + patience(10s);
       messages.size() + 1 < rows.size() && std::chrono::steady_clock::now() < deadline;) {
    auto u = sub.receive(200ms);
    if (u)
      messages.emplace(u->body.u64("season"), *u);
  }
  for (size_t i = 0; i + 1 < rows.size(); ++i) {
    const auto& r = rows[i];
    auto m = messages.find(r.season);
    REQUIRE_MESSAGE(m != messages.end(), "no season/ message for season " << r.season);
    const auto& body = m->second.body;
    CHECK(body.str("board") == board);
    CHECK(body.u64("total") == r.total);
    CHECK(body.u64("end_seq") == *r.end_seq);
    CHECK(body.has("stream_seq"));
    auto top10 = admin.call(with_season(top(board, 10), r.season));
    REQUIRE(top10.ok());
    CHECK(body.entries() == top10.entries());
    // And the model's top 10 of the season: best score, then earliest seq.
    auto want = expected[r.season];
    std::sort(want.begin(), want.end(), [](const acked& a, const acked& b) {
      return a.score != b.score ? a.score > b.score : a.seq < b.seq;
    });
    const auto shown = body.entries();
    for (size_t k = 0; k < shown.size() && k < want.size(); ++k)
      CHECK_MESSAGE(shown[k].player == want[k].player, "season " << r.season << " rank " << k + 1);
  }
}

TEST_CASE("reads of a closed season, percentile, retention and bad requests") {
  server s{make_server_options(2, 20)};
  client c(s.ctx(), s.requests());
  const std::string board = "cup";
  REQUIRE(c.call(configure_seasons(board, "", 2)).ok());
  // Season 1: p0..p9 with scores 0..9.
  for (int i = 0; i < 10; ++i) {
    auto r = c.call(submit(board, "p" + std::to_string(i), i));
    REQUIRE(r.ok());
    // Ranked below it: the players before it, all worse.
    CHECK(r.at("percentile").as<double>() == doctest::Approx(100.0 * i / (i + 1)));
  }
  auto closed = c.call(archive(board));
  REQUIRE_MESSAGE(closed.ok(), closed.text());
  CHECK(closed.u64("removed") == 10);
  CHECK(closed.u64("season") == 1);
  // Season 2: q0..q2.
  for (int i = 0; i < 3; ++i)
    REQUIRE(c.call(submit(board, "q" + std::to_string(i), 100 + i)).ok());

  auto live = c.call(top(board));
  REQUIRE(live.ok());
  CHECK(live.u64("total") == 3);
  auto old = c.call(with_season(rank(board, "p7", true), 1));
  REQUIRE_MESSAGE(old.ok(), old.text());
  CHECK(old.u64("rank") == 3);
  CHECK(old.u64("total") == 10);
  CHECK(old.u64("season") == 1);
  CHECK(old.u64("seq") == closed.u64("seq"));
  CHECK(old.at("percentile").as<double>() == doctest::Approx(70.0));
  // exact: false reads a closed season the same way.
  auto loose = c.call(with_season(rank(board, "p7", false), 1));
  REQUIRE(loose.ok());
  CHECK(loose.u64("rank") == 3);
  auto near = c.call(with_season(around(board, "p5", 1), 1));
  REQUIRE(near.ok());
  REQUIRE(near.entries().size() == 3);
  CHECK(near.entries()[1].player == "p5");
  auto friends = c.call(with_season(ranks(board, {"p1", "p9", "q0"}), 1));
  REQUIRE_MESSAGE(friends.ok(), friends.text());
  REQUIRE(friends.entries().size() == 2);
  CHECK(friends.entries()[0].player == "p9");
  CHECK(friends.u64("season") == 1);
  // The current season by number reads the live board.
  auto current = c.call(with_season(top(board), 2));
  REQUIRE(current.ok());
  CHECK(current.u64("total") == 3);
  CHECK(current.u64("season") == 2);
  // Not in that season, and no such season.
  auto absent = c.call(with_season(rank(board, "q0", true), 1));
  CHECK(absent.error_code() == "not_found");
  auto future = c.call(with_season(top(board), 9));
  CHECK(future.error_code() == "not_found");
  CHECK_MESSAGE(message_of(future).find("current: 2") != std::string::npos, message_of(future));

  // Retention: keep 2, so after seasons 2 and 3 close, season 1 is gone.
  REQUIRE(c.call(archive(board)).ok());
  REQUIRE(c.call(archive(board)).ok());
  auto gone = c.call(with_season(top(board), 1));
  CHECK(gone.error_code() == "not_found");
  CHECK_MESSAGE(message_of(gone).find("kept: 2-3") != std::string::npos, message_of(gone));
  auto listed = c.call(seasons(board));
  REQUIRE(listed.ok());
  auto rows = season_rows(listed);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].season == 2);
  CHECK(rows[0].total == 3);
  CHECK(rows[1].season == 3);
  CHECK(rows[1].total == 0);
  CHECK(rows[2].current);
  CHECK(listed.u64("current") == 4);
  CHECK(listed.u64("keep") == 2);
  CHECK(listed.is_nil("schedule"));

  // A schedule may change on a board in use; order may not.
  REQUIRE(c.call(submit(board, "r", 1)).ok());
  auto sched = c.call(configure_seasons(board, "0 0 * * 1", 2));
  REQUIRE_MESSAGE(sched.ok(), sched.text());
  CHECK(sched.str("schedule") == "0 0 * * 1");
  auto order = c.call(configure(board, std::string("asc"), std::nullopt));
  CHECK(order.error_code() == "conflict");
  auto listed_boards = c.call(boards());
  REQUIRE(listed_boards.ok());
  bool shown = false;
  for (const auto& b : at(listed_boards.root(), "boards").via.array)
    if (at(b, "board").as<std::string>() == board) {
      shown = true;
      CHECK(at(b, "schedule").as<std::string>() == "0 0 * * 1");
      CHECK(at(b, "season").as<uint32_t>() == 4);
      CHECK(at(b, "keep").as<uint32_t>() == 2);
    }
  CHECK(shown);
  auto next = c.call(seasons(board));
  REQUIRE(next.ok());
  // The next Monday 00:00 UTC, within a week from now.
  const int64_t next_ms = next.i64("next_ms");
  CHECK(next_ms > now_ms());
  CHECK(next_ms <= now_ms() + 7 * 86400000LL);
  CHECK((next_ms / 1000 / 86400 + 4) % 7 == 1); // 1970-01-01 was a Thursday (4)

  // Bad schedules say what is wrong in the expression.
  auto hour = c.call(configure_seasons(board, "0 25 * * *", 2));
  CHECK(hour.error_code() == "bad_request");
  CHECK_MESSAGE(message_of(hour).find("hour") != std::string::npos, message_of(hour));
  auto never = c.call(configure_seasons(board, "0 0 30 2 *", 2));
  CHECK(never.error_code() == "bad_request");
  CHECK_MESSAGE(message_of(never).find("never") != std::string::npos, message_of(never));
  auto keep0 = c.call(configure_seasons(board, "", 0));
  CHECK(keep0.error_code() == "bad_request");
  auto listed_after = c.call(seasons(board));
  CHECK(listed_after.str("schedule") == "0 0 * * 1"); // the bad ones changed nothing
}

TEST_CASE("a service down at a boundary rolls over once on start, at the boundary it missed") {
  temp_dir dir;
  const auto data = dir.path() + "/data";
  server_options o = make_server_options(2, 20);
  o.data_dir = data;
  const std::string board = "daily";
  int64_t configured_at = 0;
  {
    server s{o};
    client c(s.ctx(), s.requests());
    for (int i = 0; i < 20; ++i)
      REQUIRE(c.call(submit(board, "p" + std::to_string(i), i)).ok());
    // Every 4 seconds; the first boundary is at least a second away.
    while (now_ms() % 4000 > 2500)
      std::this_thread::sleep_for(50ms);
    configured_at = now_ms();
    REQUIRE(c.call(configure_seasons(board, "*/4 * * * * *", 5)).ok());
    auto st = s.stop(SIGKILL, patience(5s));
    REQUIRE(st);
  }
  const int64_t first_boundary = (configured_at / 4000 + 1) * 4000;
  // Down across two boundaries.
  while (now_ms() < first_boundary + 4000 + 500)
    std::this_thread::sleep_for(100ms);
  const int64_t restarted = now_ms();
  server s{o};
  client c(s.ctx(), s.requests());
  auto listed = c.call(seasons(board));
  REQUIRE_MESSAGE(listed.ok(), listed.text());
  auto rows = season_rows(listed);
  REQUIRE(rows.size() >= 2);
  // One rollover for the outage: season 1 ended at the first boundary it
  // missed, and season 2 started at the last boundary before the restart.
  CHECK(rows[0].season == 1);
  CHECK(rows[0].end_ms == first_boundary);
  CHECK(rows[0].total == 20);
  CHECK(rows[1].season == 2);
  REQUIRE(rows[1].start_ms);
  CHECK(*rows[1].start_ms == restarted / 4000 * 4000);
  CHECK(*rows[1].start_ms > first_boundary);
  auto old = c.call(with_season(top(board, 3), 1));
  REQUIRE(old.ok());
  CHECK(old.entries().front().player == "p19");
}

TEST_CASE("seasons survive restarts, from the log or a snapshot, with any shard count") {
  temp_dir dir;
  const auto data = dir.path() + "/data";
  const std::string board = "ladder";
  auto opts = [&](uint32_t shards) {
    server_options o = make_server_options(shards, 20);
    o.data_dir = data;
    return o;
  };
  std::string digest;
  std::vector<entry> season2;
  {
    server s{opts(1)};
    client c(s.ctx(), s.requests());
    REQUIRE(c.call(configure_seasons(board, "", 3)).ok());
    for (int season = 1; season <= 4; ++season) {
      for (int i = 0; i < 50; ++i)
        REQUIRE(c.call(submit(board, "p" + std::to_string(i * season % 61), i * season)).ok());
      if (season < 4)
        REQUIRE(c.call(archive(board)).ok());
    }
    REQUIRE(c.call(submit("plain", "x", 1)).ok());
    auto st = c.call(stats());
    REQUIRE(st.ok());
    digest = st.str("digest");
    season2 = read_season(c, board, 2);
    auto killed = s.stop(SIGKILL, patience(5s)); // the log alone holds them
    REQUIRE(killed);
  }
  for (uint32_t shards : {4u, 3u}) {
    CAPTURE(shards);
    server s{opts(shards)};
    client c(s.ctx(), s.requests());
    auto st = c.call(stats());
    REQUIRE(st.ok());
    CHECK(st.str("digest") == digest);
    CHECK(read_season(c, board, 2) == season2);
    auto listed = c.call(seasons(board));
    REQUIRE(listed.ok());
    auto rows = season_rows(listed);
    REQUIRE(rows.size() == 4); // seasons 1-3 kept (keep 3), 4 current
    CHECK(rows[0].season == 1);
    CHECK(rows[3].current);
    std::set<int> fourth; // season 4's players
    for (int i = 0; i < 50; ++i)
      fourth.insert(i * 4 % 61);
    CHECK(rows[3].total == fourth.size());
    // The first round stops with SIGTERM, which writes a snapshot: the
    // second starts from it.
    auto stopped = s.stop(SIGTERM, patience(10s));
    REQUIRE(stopped);
    CHECK(describe_status(*stopped) == "exit 0");
  }
}

TEST_CASE("a closed season reads with the order it closed with, also after a restart") {
  temp_dir dir;
  server_options o = make_server_options(2, 20);
  o.data_dir = dir.path() + "/data";
  const std::string board = "golf";
  auto check_season1 = [&](client& c) {
    auto old = c.call(with_season(top(board), 1));
    REQUIRE_MESSAGE(old.ok(), old.text());
    auto e = old.entries();
    REQUIRE(e.size() == 3);
    // desc when it closed: 3 ranks first, whatever the board says now.
    CHECK(e[0].player == "c");
    CHECK(e[0].score == 3);
    CHECK(e[2].score == 1);
    auto r = c.call(with_season(rank(board, "a", true), 1));
    REQUIRE(r.ok());
    CHECK(r.u64("rank") == 3);
    CHECK(r.i64("score") == 1);
  };
  {
    server s{o};
    client c(s.ctx(), s.requests());
    REQUIRE(c.call(submit(board, "a", 1)).ok());
    REQUIRE(c.call(submit(board, "b", 2)).ok());
    REQUIRE(c.call(submit(board, "c", 3)).ok());
    REQUIRE(c.call(archive(board)).ok());
    // The board is empty now: it may take another order.
    auto asc = c.call(configure(board, std::string("asc"), std::nullopt));
    REQUIRE_MESSAGE(asc.ok(), asc.text());
    REQUIRE(c.call(submit(board, "a", 5)).ok());
    REQUIRE(c.call(submit(board, "d", 4)).ok());
    auto now = c.call(top(board));
    REQUIRE(now.ok());
    CHECK(now.entries().front().player == "d"); // asc
    check_season1(c);
    auto st = s.stop(SIGTERM, patience(10s)); // a snapshot holds it
    REQUIRE(st);
  }
  server s{o};
  client c(s.ctx(), s.requests());
  check_season1(c);
}
