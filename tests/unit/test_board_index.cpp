// board_index against a std::map model: random merges of changed boards,
// every older index unchanged afterwards (views are immutable), and the
// invariants of board_index.hpp after each step.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "actors/ranking/board_index.hpp"

using lb::ranking::board_index;
using lb::ranking::board_view;
using lb::ranking::board_view_ptr;

namespace {

using model = std::map<std::string, uint64_t>; // name -> total

board_view_ptr board(const std::string& name, uint64_t total) {
  auto b = std::make_shared<board_view>();
  b->name = name;
  b->total = total;
  return b;
}

void check_equal(const board_index& idx, const model& m) {
  REQUIRE(idx.check_invariants() == "");
  REQUIRE(idx.size() == m.size());
  uint64_t entries = 0;
  auto it = idx.begin();
  for (auto& [name, total] : m) {
    REQUIRE(it != idx.end());
    CHECK((*it)->name == name);
    CHECK((*it)->total == total);
    entries += total;
    ++it;
  }
  CHECK(it == idx.end());
  CHECK(idx.entries() == entries);
}

std::string name_of(uint32_t i) {
  return "b" + std::to_string(i);
}

} // namespace

TEST_CASE("random merges match a map, and older indexes never change") {
  std::mt19937 rng(12);
  board_index idx;
  model m;
  std::vector<std::pair<board_index, model>> kept; // earlier versions
  for (int step = 0; step < 300; ++step) {
    // Mostly small changes, sometimes a burst of new boards.
    const uint32_t k = step % 50 == 0 ? 3000 : rng() % 20 + 1;
    std::map<std::string, board_view_ptr> changed;
    for (uint32_t i = 0; i < k; ++i) {
      auto name = name_of(rng() % 20000);
      auto total = uint64_t{rng() % 100};
      changed[name] = board(name, total);
      m[name] = total;
    }
    std::vector<board_view_ptr> sorted;
    for (auto& kv : changed)
      sorted.push_back(kv.second);
    idx = idx.with(sorted);
    check_equal(idx, m);
    if (step % 37 == 0)
      kept.emplace_back(idx, m);
  }
  for (auto& [old, om] : kept)
    check_equal(old, om);
}

TEST_CASE("find, lower_bound and upper_bound") {
  std::vector<board_view_ptr> all;
  for (uint32_t i = 0; i < 1000; ++i)
    all.push_back(board(name_of(100000 + 2 * i), i)); // even numbers only
  auto idx = board_index{}.with(all);
  REQUIRE(idx.check_invariants() == "");
  CHECK(idx.find("b100004")->total == 2);
  CHECK(idx.find("b100005") == nullptr);
  CHECK(idx.find("a") == nullptr);
  CHECK(idx.find("z") == nullptr);
  CHECK((*idx.lower_bound("b100005"))->name == "b100006");
  CHECK((*idx.lower_bound("b100006"))->name == "b100006");
  CHECK((*idx.upper_bound("b100006"))->name == "b100008");
  CHECK((*idx.lower_bound(""))->name == "b100000");
  CHECK(idx.upper_bound("b101998") == idx.end());
  CHECK(board_index{}.find("x") == nullptr);
  CHECK(board_index{}.lower_bound("x") == board_index{}.end());
}

TEST_CASE("a merge shares every chunk it does not change") {
  std::vector<board_view_ptr> all;
  for (uint32_t i = 0; i < 100000; ++i)
    all.push_back(board(name_of(1000000 + i), 1));
  auto idx = board_index{}.with(all);
  auto next = idx.with({board("b1050000", 7)});
  REQUIRE(next.check_invariants() == "");
  CHECK(next.find("b1050000")->total == 7);
  CHECK(idx.find("b1050000")->total == 1);
  CHECK(next.entries() == idx.entries() + 6);
  // Boards away from the change are the same objects, not copies.
  CHECK(next.find("b1000000") == idx.find("b1000000"));
  CHECK(next.find("b1099999") == idx.find("b1099999"));
}
