// player_index against a std::map model: random inserts, record swaps and
// erases, with the invariants of player_index.hpp checked along the way.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>

#include "actors/ranking/player_index.hpp"

using lb::ranking::entry_rec;
using lb::ranking::player_index;
using lb::ranking::player_slot;
using lb::ranking::rank_key;
using lb::ranking::rec_ptr;

namespace {

rec_ptr rec(const std::string& name) {
  return rec_ptr(entry_rec::make(name, std::nullopt));
}

} // namespace

TEST_CASE("random changes match a map; slots stay put; nothing leaks") {
  const auto records_before = entry_rec::live_count();
  {
    std::mt19937 rng(5);
    player_index idx;
    std::map<std::string, uint64_t> model; // name -> key.seq
    for (uint64_t step = 1; step <= 60000; ++step) {
      auto name = "p" + std::to_string(rng() % 9000);
      const auto op = rng() % 10;
      auto* slot = idx.find(name);
      REQUIRE((slot != nullptr) == (model.count(name) == 1));
      if (slot == nullptr && op < 6) {
        auto& s = idx.insert(rank_key{0, 0, step}, rec(name));
        CHECK(&s == idx.find(name)); // the slot found is the one inserted
        model[name] = step;
      } else if (slot != nullptr && op < 3) {
        slot->key.seq = step;
        idx.replace_record(*slot, rec(name));
        CHECK(idx.find(name) == slot); // (3): a new record keeps the slot
        model[name] = step;
      } else if (slot != nullptr) {
        CHECK(idx.erase(name));
        CHECK_FALSE(idx.erase(name));
        model.erase(name);
      }
      if (step % 5000 == 0) {
        REQUIRE(idx.check_invariants() == "");
        REQUIRE(idx.size() == model.size());
        size_t seen = 0;
        idx.for_each([&](const player_slot& s) {
          ++seen;
          CHECK(model.at(std::string(s.rec->name())) == s.key.seq);
        });
        CHECK(seen == model.size());
      }
    }
    idx.clear();
    CHECK(idx.size() == 0);
    CHECK(idx.check_invariants() == "");
    CHECK(idx.find("p1") == nullptr);
  }
  CHECK(entry_rec::live_count() == records_before);
}

TEST_CASE("an index keeps working after it moves") {
  player_index a;
  a.insert(rank_key{1, 2, 3}, rec("alice"));
  player_index b = std::move(a); // the set's functors point at the slab, not at `a`
  REQUIRE(b.find("alice") != nullptr);
  CHECK(b.find("alice")->key.seq == 3);
  b.insert(rank_key{1, 2, 4}, rec("bob"));
  CHECK(b.check_invariants() == "");
}

TEST_CASE("the slab grows in doubling chunks, then in big ones") {
  player_index idx;
  // Across the end of the doubling chunks (4095 slots) and two big ones.
  for (int i = 0; i < 13000; ++i)
    idx.insert(rank_key{0, 0, uint64_t(i)}, rec("p" + std::to_string(i)));
  REQUIRE(idx.check_invariants() == "");
  for (int i = 0; i < 13000; ++i)
    REQUIRE(idx.find("p" + std::to_string(i))->key.seq == uint64_t(i));
}
