// view_keys: a player's key in a view cut at some seq, and how long the
// intervals that answer it are kept (invariants of view_keys.hpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "actors/ranking/view_keys.hpp"

using lb::ranking::rank_key;
using lb::ranking::view_keys;

TEST_CASE("a view sees the key a player had at its cut (2)") {
  view_keys k;
  const rank_key a{1, 0, 1}, b{2, 0, 5}, c{3, 0, 8};
  k.changing("board", "p", std::nullopt); // new at seq 1
  k.frozen(3);                            // view cut at 3 sees a
  k.changing("board", "p", a);            // a -> b at seq 5
  k.changing("board", "p", b);            // b -> c at seq 8: not recorded (2)
  k.frozen(10);
  CHECK(k.key_in_view("board", "p", 0, c) == std::nullopt); // absent before seq 1
  CHECK(k.key_in_view("board", "p", 3, c) == a);
  CHECK(k.key_in_view("board", "p", 10, c) == c); // unchanged since: the live key
  CHECK(k.key_in_view("other", "p", 3, c) == c);  // another board's player
  int changed = 0;
  k.changed_between(3, 10, [&](std::string_view board, std::string_view player) {
    CHECK(board == "board");
    CHECK(player == "p");
    ++changed;
  });
  CHECK(changed == 1);
}

TEST_CASE("spare intervals go by count and by the keys they hold (3)") {
  view_keys k;
  // Ten intervals of one change each, then a view cut after all of them:
  // eight stay as spares.
  for (uint64_t i = 1; i <= 10; ++i) {
    k.changing("b", "p" + std::to_string(i), std::nullopt);
    k.frozen(i * 10);
  }
  k.view_at(100);
  CHECK(k.covers(30));
  CHECK_FALSE(k.covers(10));
  // A burst: one interval of 100 changes. Past the key budget, every
  // spare goes once the view has passed it.
  for (int i = 0; i < 100; ++i)
    k.changing("b", "q" + std::to_string(i), std::nullopt);
  k.frozen(200);
  k.view_at(200, 8, 50);
  CHECK_FALSE(k.covers(100));
  CHECK(k.covers(200));
  CHECK(k.key_in_view("b", "q1", 200, rank_key{1, 1, 150}) == rank_key{1, 1, 150});
}
