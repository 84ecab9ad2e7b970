// Paging (PROTOCOL.md "Paging"): `boards` a page at a time after a board
// name, and `top` by cursor as well as by offset, both exact and from the
// merged view, against the real leaderboardd.
#include <doctest/doctest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/system/e2e_client.hpp"

using namespace lb::e2e;
using namespace std::chrono_literals;

namespace {

// One board of a `boards` page.
struct board_row {
  std::string name;
  uint64_t total = 0;
  std::string order, oper;
  friend bool operator==(const board_row& a, const board_row& b) {
    return a.name == b.name && a.total == b.total && a.order == b.order && a.oper == b.oper;
  }
};

std::string show(const board_row& b) {
  return b.name + " " + std::to_string(b.total) + " " + b.order + " " + b.oper;
}

// Sends the items as batches of at most 1000 and checks that every one was
// applied.
void submit_all(client& c, const std::vector<body>& items) {
  for (size_t from = 0; from < items.size(); from += 1000) {
    std::vector<body> part(items.begin() + static_cast<std::ptrdiff_t>(from),
                           items.begin()
                             + static_cast<std::ptrdiff_t>(std::min(items.size(), from + 1000)));
    auto r = c.call(batch(part));
    REQUIRE_MESSAGE(r.ok(), r.text());
    const auto& results = r.at("results");
    REQUIRE(results.via.array.size == part.size());
    for (uint32_t i = 0; i < results.via.array.size; ++i)
      REQUIRE_MESSAGE(at(results.via.array.ptr[i], "ok").as<bool>(), r.text());
  }
}

body boards_page(bool exact, std::optional<uint32_t> limit,
                 const std::optional<std::string>& after) {
  body b{"boards"};
  if (limit)
    b.set("limit", *limit);
  if (after)
    b.set("after", *after);
  return b.set("exact", exact);
}

std::vector<board_row> rows_of(const reply& r) {
  const auto& a = r.at("boards");
  REQUIRE(a.type == msgpack::type::ARRAY);
  std::vector<board_row> out;
  for (uint32_t i = 0; i < a.via.array.size; ++i) {
    const auto& b = a.via.array.ptr[i];
    out.push_back(board_row{at(b, "board").as<std::string>(), at(b, "total").as<uint64_t>(),
                            at(b, "order").as<std::string>(), at(b, "operator").as<std::string>()});
  }
  return out;
}

// Every board, following `next` from the first page to the last. Each page
// before the last must be full and end with the board its `next` names;
// the last says nil. Merged-view pages carry `total`, exact ones do not.
std::vector<board_row> walk_boards(client& c, bool exact, std::optional<uint32_t> limit,
                                   uint64_t want_total, size_t& pages) {
  const uint32_t page = limit ? *limit : 1000;
  std::vector<board_row> out;
  std::optional<std::string> after;
  pages = 0;
  for (;;) {
    auto r = c.call(boards_page(exact, limit, after));
    REQUIRE_MESSAGE(r.ok(), r.text());
    ++pages;
    REQUIRE(pages <= want_total + 1);
    const auto rows = rows_of(r);
    REQUIRE_MESSAGE(rows.size() <= page, rows.size() << " boards on a page of " << page);
    out.insert(out.end(), rows.begin(), rows.end());
    if (exact)
      CHECK_FALSE(r.has("total"));
    else
      CHECK(r.u64("total") == want_total);
    REQUIRE(r.has("next"));
    if (r.is_nil("next"))
      break;
    REQUIRE_MESSAGE(rows.size() == page, "a short page before the last: " << rows.size());
    CHECK(r.str("next") == rows.back().name);
    after = r.str("next");
  }
  return out;
}

} // namespace

TEST_CASE("boards pages: 2,503 boards, every one exactly once in name order, exact and merged") {
  server s{make_server_options(3, 20)};
  client c(s.ctx(), s.requests());
  // Names in no particular order, some the prefix of others ("a7", "ab7"),
  // with every kind of character a name may hold.
  const char* heads[] = {"Z", "a", "m.", "0-", "q:", "_x", "ab", "A"};
  std::map<std::string, board_row> want;
  std::vector<body> items;
  for (int i = 0; i < 2500; ++i) {
    const std::string name = heads[i % 8] + std::to_string((i * 7919) % 10007);
    const int players = 1 + i % 3;
    for (int p = 0; p < players; ++p)
      items.push_back(submit_item(name, "p" + std::to_string(p), i + p));
    want[name] = board_row{name, uint64_t(players), "desc", "best"};
  }
  REQUIRE(want.size() == 2500);
  submit_all(c, items);
  // Boards without entries are listed too.
  for (auto [name, order, oper] :
       {std::tuple{"cfg-1", "asc", "set"}, {"cfg-2", "desc", "incr"}, {"cfg-3", "asc", "decr"}}) {
    REQUIRE(c.call(configure(name, std::string(order), std::string(oper))).ok());
    want[name] = board_row{name, 0, order, oper};
  }
  std::vector<board_row> all;
  for (auto& [name, row] : want)
    all.push_back(row);
  s.settle(); // the merged view holds every board

  for (bool exact : {true, false}) {
    for (std::optional<uint32_t> limit :
         {std::optional<uint32_t>{}, std::optional<uint32_t>{777}, std::optional<uint32_t>{100}}) {
      INFO("exact " << exact << ", limit " << (limit ? std::to_string(*limit) : "absent"));
      size_t pages = 0;
      const auto got = walk_boards(c, exact, limit, all.size(), pages);
      const size_t page = limit ? *limit : 1000;
      CHECK(pages == (all.size() + page - 1) / page);
      REQUIRE(got.size() == all.size());
      for (size_t i = 0; i < got.size(); ++i)
        if (!(got[i] == all[i])) {
          FAIL_CHECK("board " << i << ": " << show(got[i]) << ", expected " << show(all[i]));
          break;
        }
    }

    INFO("exact " << exact);
    // The default page is bounded: 1000 boards, not all 2,503.
    auto first = c.call(boards_page(exact, std::nullopt, std::nullopt));
    REQUIRE(first.ok());
    CHECK(rows_of(first).size() == 1000);
    CHECK(first.str("next") == all[999].name);
    // A page after a name that is no board starts at the next board.
    const std::string between = all[41].name + "-";
    REQUIRE(between < all[42].name);
    auto r = c.call(boards_page(exact, 5u, between));
    REQUIRE(r.ok());
    CHECK(rows_of(r) == std::vector<board_row>(all.begin() + 42, all.begin() + 47));
    CHECK(r.str("next") == all[46].name);
    // Pages of one.
    std::optional<std::string> after = all[1000].name;
    for (size_t i = 1001; i < 1006; ++i) {
      r = c.call(boards_page(exact, 1u, after));
      REQUIRE(r.ok());
      const auto rows = rows_of(r);
      REQUIRE(rows.size() == 1);
      CHECK(rows[0] == all[i]);
      after = r.str("next");
    }
    // The last page, and past the last board: nil next.
    r = c.call(boards_page(exact, 3u, all[all.size() - 4].name));
    REQUIRE(r.ok());
    CHECK(rows_of(r) == std::vector<board_row>(all.end() - 3, all.end()));
    CHECK(r.is_nil("next"));
    r = c.call(boards_page(exact, std::nullopt, all.back().name));
    REQUIRE(r.ok());
    CHECK(rows_of(r).empty());
    CHECK(r.is_nil("next"));
    r = c.call(boards_page(exact, std::nullopt, std::string(64, 'z')));
    REQUIRE(r.ok());
    CHECK(rows_of(r).empty());
    // Out of range and malformed: bad_request.
    for (auto& b : {boards_page(exact, 0u, std::nullopt), boards_page(exact, 1001u, std::nullopt),
                    boards_page(exact, std::nullopt, std::string("no spaces")),
                    boards_page(exact, std::nullopt, std::string(65, 'a')),
                    body{"boards"}.set("after", 5).set("exact", exact),
                    body{"boards"}.set("limit", "10").set("exact", exact)}) {
      r = c.call(b);
      CHECK_MESSAGE(r.error_code() == "bad_request", r.text());
    }
  }
}

namespace {

body top_after(const std::string& board, uint32_t limit, const std::string& cursor, bool exact) {
  return body{"top"}
    .set("board", board)
    .set("limit", limit)
    .set("after", cursor)
    .set("exact", exact);
}

struct page {
  std::vector<entry> entries;
  std::optional<std::string> next;
  uint64_t total = 0;
};

page page_of(const reply& r) {
  REQUIRE_MESSAGE(r.ok(), r.text());
  REQUIRE(r.has("next"));
  page p{r.entries(), std::nullopt, r.u64("total")};
  if (!r.is_nil("next")) {
    p.next = r.str("next");
    CHECK(p.next->size() == 48);
  }
  return p;
}

// The whole board by cursor: the first page by offset 0, then each after the
// last page's `next`, until a page says nil.
std::vector<entry> walk_by_cursor(client& c, const std::string& board, uint32_t limit, bool exact) {
  std::vector<entry> out;
  auto p = page_of(c.call(top(board, limit, 0).set("exact", exact)));
  for (size_t pages = 1;; ++pages) {
    REQUIRE(pages < 1000);
    out.insert(out.end(), p.entries.begin(), p.entries.end());
    if (!p.next)
      break;
    REQUIRE_MESSAGE(p.entries.size() == limit, "a short page before the last");
    p = page_of(c.call(top_after(board, limit, *p.next, exact)));
  }
  return out;
}

std::vector<entry> walk_by_offset(client& c, const std::string& board, uint32_t limit, bool exact) {
  std::vector<entry> out;
  for (uint64_t offset = 0;; offset += limit) {
    auto p = page_of(c.call(top(board, limit, offset).set("exact", exact)));
    out.insert(out.end(), p.entries.begin(), p.entries.end());
    // `next` says whether the board goes on past this page.
    CHECK(p.next.has_value() == (offset + limit < p.total));
    if (!p.next)
      break;
  }
  return out;
}

} // namespace

TEST_CASE("top by cursor walks a 300-entry board page by page, as offset paging does") {
  server s{make_server_options(3, 20)};
  client c(s.ctx(), s.requests());
  REQUIRE(c.call(configure("low", std::string("asc"), std::string("set"))).ok());
  std::vector<body> items;
  for (int i = 0; i < 300; ++i)
    for (const char* board : {"high", "low"}) // many ties: seq breaks them
      items.push_back(submit_item(board, "p" + std::to_string(i), (i * 7919) % 53, i % 3));
  submit_all(c, items);
  s.settle();

  for (const char* board : {"high", "low"}) {
    for (bool exact : {true, false}) {
      INFO(board << ", exact " << exact);
      const auto by_offset = walk_by_offset(c, board, 7, exact);
      REQUIRE(by_offset.size() == 300);
      for (size_t i = 0; i < by_offset.size(); ++i)
        REQUIRE(by_offset[i].rank == i + 1);
      for (uint32_t limit : {7u, 1u, 299u, 300u, 1000u}) {
        INFO("limit " << limit);
        const auto by_cursor = walk_by_cursor(c, board, limit, exact);
        REQUIRE(by_cursor.size() == by_offset.size());
        for (size_t i = 0; i < by_cursor.size(); ++i)
          if (!(by_cursor[i] == by_offset[i])) {
            FAIL_CHECK("entry " << i << ": " << to_string(by_cursor[i]) << ", by offset "
                                << to_string(by_offset[i]));
            break;
          }
      }
      // The smallest cursor starts at rank 1; the largest is past the end.
      auto p = page_of(c.call(top_after(board, 5, std::string(48, '0'), exact)));
      REQUIRE(p.entries.size() == 5);
      CHECK(p.entries[0] == by_offset[0]);
      p = page_of(c.call(top_after(board, 5, std::string(48, 'f'), exact)));
      CHECK(p.entries.empty());
      CHECK_FALSE(p.next);
      CHECK(p.total == 300);
    }
  }
  // A cursor of the exact view serves the merged one, and the other way.
  auto exact_first = page_of(c.call(top("high", 10, 0)));
  auto merged_first = page_of(c.call(top("high", 10, 0).set("exact", false)));
  REQUIRE(exact_first.next);
  CHECK(exact_first.next == merged_first.next);
  auto a = page_of(c.call(top_after("high", 10, *exact_first.next, false)));
  auto b = page_of(c.call(top_after("high", 10, *merged_first.next, true)));
  CHECK(a.entries == b.entries);
  REQUIRE(a.entries.size() == 10);
  CHECK(a.entries[0].rank == 11);
}

TEST_CASE("a top cursor keeps its place while the board changes") {
  server s{make_server_options(3, 20)};
  client c(s.ctx(), s.requests());
  std::vector<body> items;
  for (int i = 0; i < 100; ++i)
    items.push_back(submit_item("live", "p" + std::to_string(i), 1000 - i));
  submit_all(c, items);
  // p0..p9 (ranks 1..10), cursor at p9.
  auto p1 = page_of(c.call(top("live", 10, 0)));
  REQUIRE(p1.entries.size() == 10);
  CHECK(p1.entries.back().player == "p9");
  REQUIRE(p1.next);
  // The cursor's own entry goes, a new best comes, and p10 moves behind p20.
  REQUIRE(c.call(remove("live", "p9")).ok());
  REQUIRE(c.call(submit("live", "newbest", 5000)).ok());
  auto moved = c.call(submit("live", "p10", 1000 - 20));
  REQUIRE(moved.ok());
  CHECK_FALSE(moved.flag("changed")); // best: a worse score changes nothing
  REQUIRE(c.call(remove("live", "p10")).ok());
  REQUIRE(c.call(submit("live", "p10", 1000 - 20)).ok()); // now behind p20 (later seq)
  // The next page starts right after where p9 was: p11 ..., with today's
  // ranks (p11 was 12: newbest +1, p9 and p10 no longer before it -2).
  auto p2 = page_of(c.call(top_after("live", 10, *p1.next, true)));
  REQUIRE(p2.entries.size() == 10);
  CHECK(p2.entries[0].player == "p11");
  CHECK(p2.entries[0].rank == 11);
  CHECK(p2.entries[9].player == "p20");
  CHECK(p2.entries[9].rank == 20);
  REQUIRE(p2.next);
  auto p3 = page_of(c.call(top_after("live", 10, *p2.next, true)));
  REQUIRE_FALSE(p3.entries.empty());
  CHECK(p3.entries[0].player == "p10"); // the entry that moved shows again after its new place
  CHECK(p3.entries[0].rank == 21);
  // The merged view, once caught up, continues from the same cursor alike.
  s.settle();
  auto m2 = page_of(c.call(top_after("live", 10, *p1.next, false)));
  CHECK(m2.entries == p2.entries);
}

TEST_CASE("bad top cursors get bad_request and change nothing") {
  server s{make_server_options(3, 20)};
  client c(s.ctx(), s.requests());
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.call(submit("arena", "p" + std::to_string(i), i)).ok());
  auto before = c.call(top("arena", 30, 0));
  REQUIRE(before.ok());
  const auto seq = before.u64("seq");
  const auto good = page_of(c.call(top("arena", 10, 0))).next;
  REQUIRE(good);
  std::vector<std::pair<body, std::string>> bad = {
    {top_after("arena", 10, "not-a-cursor", true), "after: 'not-a-cursor' is not a top cursor"},
    {top_after("arena", 10, good->substr(1), true), "is not a top cursor"},
    {top_after("arena", 10, *good + "0", true), "is not a top cursor"},
    {top_after("arena", 10, std::string(47, '0') + "G", false), "is not a top cursor"},
    {top_after("arena", 10, std::string("\x00\xff", 2) + std::string(46, '0'), true),
     "is not a top cursor"},
    {body{"top"}.set("board", "arena").set("after", bin{good->substr(0, 24)}),
     "after: expected str"},
    {body{"top"}.set("board", "arena").set("after", 12345), "after: expected str"},
    {body{"top"}.set("board", "arena").set("offset", 10).set("after", *good),
     "after: cannot be combined with offset"},
  };
  for (auto& [b, message] : bad) {
    auto r = c.call(b);
    CHECK_MESSAGE(r.error_code() == "bad_request", r.text());
    if (!r.ok())
      CHECK_MESSAGE(at(r.at("error"), "message").as<std::string>().find(message)
                      != std::string::npos,
                    r.text());
  }
  // A good cursor on an unknown board: not_found, as any top there.
  CHECK(c.call(top_after("nope", 10, *good, true)).error_code() == "not_found");
  // Nothing changed, and the service goes on.
  auto after = c.call(top("arena", 30, 0));
  REQUIRE(after.ok());
  CHECK(after.u64("seq") == seq);
  CHECK(after.entries() == before.entries());
  CHECK(c.call(ping()).ok());
}
