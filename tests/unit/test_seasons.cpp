// Seasons below the actors: a board part's rollover (O(1), entries kept
// readable, retention), the invariants of ranking/season.hpp, and the
// gateway's schedule table (front/schedules.hpp) against a clock the test
// sets.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "actors/front/schedules.hpp"
#include "actors/ranking/board_part.hpp"
#include "actors/storage/replay_state.hpp"

using namespace lb;

namespace {

schemas::submit_req submit(const std::string& player, int64_t score) {
  schemas::submit_req s;
  s.board = "weekly";
  s.player = player;
  s.score = score;
  return s;
}

schemas::rollover_body closing(uint32_t season, int64_t end_ms) {
  return schemas::rollover_body{"weekly", season, end_ms, end_ms, true};
}

// 2026-12-14T00:00:00Z, a Monday.
constexpr int64_t monday_ms = 1797206400000;

} // namespace

TEST_CASE("a rollover moves the entries to a closed season without copying them") {
  ranking::wait_for_freed_seasons();
  const auto records_before = ranking::entry_rec::live_count();
  {
    ranking::board_part part;
    uint64_t seq = 0;
    for (int i = 0; i < 5000; ++i)
      part.submit(submit("p" + std::to_string(i), i), ++seq);
    const auto records = ranking::entry_rec::live_count();
    auto before = part.freeze(); // a view that still holds the season's nodes
    const uint64_t at = ++seq;
    CHECK(part.rollover(closing(1, monday_ms), at) == 5000);
    // Not one record was made or dropped: the closed season took them over.
    CHECK(ranking::entry_rec::live_count() == records);
    CHECK(part.size() == 0);
    CHECK(part.check_invariants().empty());
    CHECK(part.season().number == 2);
    CHECK(part.season().start_seq == at + 1);
    CHECK(part.season().start_ms == monday_ms);
    REQUIRE(part.closed());
    REQUIRE(part.closed()->size() == 1);
    const auto& s = part.closed()->front();
    CHECK(s.span.season == 1);
    CHECK(s.span.end_seq == at);
    CHECK(s.span.end_ms == monday_ms);
    CHECK(s.part->tree.size() == 5000);
    const auto* slot = s.part->players.find("p4999");
    REQUIRE(slot != nullptr);
    CHECK(s.part->tree.count_before(slot->key) == 0); // the best of season 1
    CHECK(before.size() == 5000);                     // older views keep their entries
    // The new season starts empty and ranks on its own.
    part.submit(submit("p1", 1), ++seq);
    CHECK(part.size() == 1);
    CHECK(s.part->tree.size() == 5000);
    CHECK(part.check_invariants().empty());
  }
  ranking::wait_for_freed_seasons(); // a dropped season is freed on a thread of its own
  CHECK(ranking::entry_rec::live_count() == records_before);
}

TEST_CASE("retention keeps the newest `keep` closed seasons; lowering keep drops at once") {
  ranking::board_config config;
  config.keep = 3;
  ranking::board_part part(config);
  uint64_t seq = 0;
  for (uint32_t season = 1; season <= 6; ++season) {
    for (int i = 0; i < 10 * static_cast<int>(season); ++i)
      part.submit(submit("p" + std::to_string(i), i), ++seq);
    part.rollover(closing(season, monday_ms + season), ++seq);
    REQUIRE(part.check_invariants().empty());
  }
  REQUIRE(part.closed()->size() == 3);
  CHECK(part.closed()->front().span.season == 4);
  CHECK(part.closed()->back().span.season == 6);
  CHECK(part.closed()->back().part->tree.size() == 60);
  CHECK(ranking::find_season(part.closed().get(), 3) == nullptr);
  CHECK(ranking::find_season(part.closed().get(), 5)->part->tree.size() == 50);
  // A season's span runs from the previous rollover to its own.
  const auto* five = ranking::find_season(part.closed().get(), 5);
  const auto* six = ranking::find_season(part.closed().get(), 6);
  CHECK(six->span.start_seq == five->span.end_seq + 1);
  config.keep = 1;
  part.configure(config, monday_ms);
  REQUIRE(part.closed()->size() == 1);
  CHECK(part.closed()->front().span.season == 6);
  CHECK(part.check_invariants().empty());
}

TEST_CASE("check_season_list finds a list out of order or over its keep") {
  ranking::board_part part;
  part.submit(submit("a", 1), 1);
  part.rollover(closing(1, monday_ms), 2);
  ranking::season_list twice{part.closed()->front(), part.closed()->front()};
  CHECK(ranking::check_season_list(twice, 5).find("follows") != std::string::npos);
  CHECK(ranking::check_season_list(twice, 1).find("keep") != std::string::npos);
  CHECK(ranking::check_season_list(*part.closed(), 1).empty());
}

TEST_CASE("a replayed log with rollovers rebuilds the same seasons as the live part") {
  storage::replay_state replay;
  ranking::board_part live;
  uint64_t seq = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20; ++i) {
      auto s = submit("p" + std::to_string(i * (round + 1)), i);
      ++seq;
      replay.apply(schemas::event_record{seq, monday_ms, s});
      live.submit(s, seq);
    }
    ++seq;
    auto r = closing(static_cast<uint32_t>(round + 1), monday_ms + round);
    replay.apply(schemas::event_record{seq, monday_ms, r});
    live.rollover(r, seq);
  }
  auto& rebuilt = replay.boards().at("weekly");
  CHECK(rebuilt.season().number == live.season().number);
  CHECK(rebuilt.closed()->size() == live.closed()->size());
  CHECK(rebuilt.closed()->back().part->tree.digest().lo
        == live.closed()->back().part->tree.digest().lo);
  CHECK(replay.entries() == 0);
}

TEST_CASE("the schedule table rolls each board over once per boundary, and once after an outage") {
  actors::season_schedules s;
  // Every 10 seconds (six fields: seconds first), set at 1.5 s.
  s.configured("weekly", "*/10 * * * * *", 2, 1500);
  CHECK(s.next_ms("weekly") == 10000);
  CHECK(s.earliest() == 10000);
  CHECK(s.due(9999).empty());
  auto first = s.due(10000);
  REQUIRE(first.size() == 1);
  CHECK(first[0].season == 1);
  CHECK(first[0].end_ms == 10000);
  CHECK(first[0].start_ms == 10000);
  CHECK(first[0].scheduled);
  CHECK(s.season("weekly") == 2);
  CHECK(s.next_ms("weekly") == 20000);
  // Down from 15 s to 47 s: one rollover, ending at the first missed boundary,
  // the next season starting at the last one before now.
  auto late = s.due(47000);
  REQUIRE(late.size() == 1);
  CHECK(late[0].season == 2);
  CHECK(late[0].end_ms == 20000);
  CHECK(late[0].start_ms == 40000);
  CHECK(s.next_ms("weekly") == 50000);
  // The log refused it: the season stays open and is due again.
  s.refused(late[0]);
  CHECK(s.season("weekly") == 2);
  CHECK(s.next_ms("weekly") == 20000);
  // By hand: numbered on, and the schedule counts from then.
  auto manual = s.close_now("weekly", 47000);
  CHECK(manual.season == 2);
  CHECK_FALSE(manual.scheduled);
  CHECK(s.next_ms("weekly") == 50000);
  // Removing the schedule leaves the numbers.
  s.configured("weekly", "", 2, 48000);
  CHECK_FALSE(s.next_ms("weekly"));
  CHECK_FALSE(s.earliest());
  CHECK(s.season("weekly") == 3);
  CHECK(s.keep("weekly") == 2);
  CHECK(s.season("other") == 1);
}

TEST_CASE("the schedule table starts from what recovery found") {
  actors::season_schedules s;
  s.load({actors::season_seed{"weekly", 7, monday_ms, "0 0 * * 1", 4}});
  CHECK(s.season("weekly") == 7);
  CHECK(s.keep("weekly") == 4);
  CHECK(s.next_ms("weekly") == monday_ms + 7 * 86400000LL);
}

TEST_CASE("a tree and an index let go in paced steps free every record once") {
  ranking::wait_for_freed_seasons(); // what earlier tests dropped
  const auto records_before = ranking::entry_rec::live_count();
  {
    ranking::board_part part;
    uint64_t seq = 0;
    for (int i = 0; i < 10000; ++i)
      part.submit(submit("p" + std::to_string(i), i), ++seq);
    // A frozen copy shares every node with the live tree: releasing it must
    // only let go of its references.
    auto frozen = part.freeze();
    int pauses = 0;
    frozen.release_paced(1000, [&] { ++pauses; });
    CHECK(frozen.size() == 0);
    CHECK(pauses == 0); // no node was its alone: nothing freed, nothing to pace
    CHECK(part.size() == 10000);
    CHECK(part.check_invariants().empty());
    // Moved to a closed season, the board's nodes and records are the
    // season's alone; freeing them pauses every 1000 records.
    part.rollover(closing(1, monday_ms), ++seq);
    auto closed = part.closed()->front().part;
    part.restore_seasons(part.season(), nullptr); // the board lets go of it
    REQUIRE(closed.use_count() == 1);
    auto& owned = const_cast<ranking::season_part&>(*closed);
    pauses = 0;
    owned.tree.release_paced(1000, [&] { ++pauses; });
    CHECK(pauses == 10);
    CHECK(ranking::entry_rec::live_count() == records_before + 10000); // the index holds them
    pauses = 0;
    owned.players.release_paced(1000, [&] { ++pauses; });
    CHECK(pauses == 10);
    CHECK(owned.players.size() == 0);
    CHECK(ranking::entry_rec::live_count() == records_before);
  }
  ranking::wait_for_freed_seasons();
  CHECK(ranking::entry_rec::live_count() == records_before);
}
