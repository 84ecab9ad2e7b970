#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/order_tree_node.hpp"

using lb::ranking::entry_rec;
using lb::ranking::frozen_tree;
using lb::ranking::order_tree;
using lb::ranking::rank_key;
using lb::ranking::rec_ptr;
using lb::ranking::tree_cursor;
using lb::ranking::tree_reader;
using lb::schemas::meta_value;

namespace {

constexpr uint64_t u64max = std::numeric_limits<uint64_t>::max();

// The reference: entries sorted by key, each with the name of its record.
using model = std::vector<std::pair<rank_key, std::string>>;

rec_ptr make_rec(const std::string& name) {
  return rec_ptr(entry_rec::make(name, std::nullopt));
}

std::string key_str(const rank_key& k) {
  return std::to_string(k.primary) + "/" + std::to_string(k.secondary) + "/"
         + std::to_string(k.seq);
}

uint64_t model_lower(const model& m, const rank_key& k) {
  auto it = std::lower_bound(m.begin(), m.end(), k,
                             [](const auto& e, const rank_key& x) { return e.first < x; });
  return static_cast<uint64_t>(it - m.begin());
}

bool model_has(const model& m, const rank_key& k) {
  const uint64_t i = model_lower(m, k);
  return i < m.size() && m[i].first == k;
}

// Full comparison: forward walk, backward walk, and rank/select of every entry.
void check_all(const tree_reader& t, const model& m) {
  REQUIRE(t.size() == m.size());
  uint64_t i = 0;
  for (tree_cursor c = t.begin(); c.valid(); c.next(), ++i) {
    REQUIRE(i < m.size());
    REQUIRE(c.key() == m[i].first);
    REQUIRE(c.rec().name() == m[i].second);
  }
  REQUIRE(i == m.size());

  if (!m.empty()) {
    tree_cursor c = t.at(m.size() - 1);
    for (uint64_t j = m.size(); j-- > 0; c.prev()) {
      REQUIRE(c.valid());
      REQUIRE(c.key() == m[j].first);
    }
    REQUIRE_FALSE(c.valid());
  }

  for (uint64_t j = 0; j < m.size(); ++j) {
    REQUIRE(t.count_before(m[j].first) == j);
    REQUIRE(t.contains(m[j].first));
  }
  REQUIRE_FALSE(t.at(m.size()).valid());
}

// A frozen tree and the contents it must keep.
struct snapshot {
  frozen_tree tree;
  model contents;
};

// The Invariants of order_tree.hpp: (1)-(9) on the live tree `t` (null once
// it is gone), (1)-(8) and (10) on each snapshot, and (7) exactly over all of
// them, which hold every reference there is.
void check_invariants(const order_tree* t, const std::deque<snapshot>& snaps) {
  std::vector<const tree_reader*> holders;
  if (t != nullptr) {
    REQUIRE(t->check_invariants() == "");
    holders.push_back(t);
  }
  for (const snapshot& s : snaps) {
    REQUIRE(s.tree.check_invariants(t) == "");
    holders.push_back(&s.tree);
  }
  REQUIRE(tree_reader::check_references(holders) == "");
}

struct leak_guard {
  int64_t nodes = order_tree::live_nodes();
  int64_t recs = entry_rec::live_count();
  void check() const {
    CHECK(order_tree::live_nodes() == nodes);
    CHECK(entry_rec::live_count() == recs);
  }
};

} // namespace

TEST_CASE("random operations match a sorted vector, snapshots stay as frozen") {
  leak_guard guard;
  std::mt19937_64 rng(20240611);
  auto pick = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };

  // Few primaries and secondaries so that most comparisons come down to seq;
  // the extremes are in the mix.
  const uint64_t primaries[] = {0, 1, 2, 3, 5, 8, 1000, u64max};
  auto random_key = [&]() {
    return rank_key{primaries[pick(8)], pick(4) == 3 ? u64max : pick(3), pick(3000)};
  };

  std::deque<snapshot> snaps;
  std::size_t snapshots_checked = 0;
  std::size_t max_size = 0;

  {
    order_tree t;
    model m;
    uint64_t next_name = 0;

    for (int op = 0; op < 100000; ++op) {
      // Grow to a few thousand entries, drain almost to empty, grow again:
      // exercises splits, merges, borrows and root collapse.
      const bool growing = (op / 25000) % 2 == 0;
      const unsigned insert_weight = growing ? 6 : 2;
      const unsigned r = static_cast<unsigned>(pick(16));

      if (r < insert_weight) {
        rank_key k = random_key();
        if (model_has(m, k))
          continue;
        std::string name = "p" + std::to_string(next_name++);
        t.insert(k, make_rec(name));
        m.insert(m.begin() + static_cast<std::ptrdiff_t>(model_lower(m, k)), {k, name});
      } else if (r < 10) {
        if (m.empty())
          continue;
        const uint64_t i = pick(m.size());
        REQUIRE(t.erase(m[i].first));
        m.erase(m.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (r == 10) {
        rank_key k = random_key();
        if (model_has(m, k))
          continue;
        REQUIRE_FALSE(t.erase(k));
      } else if (r == 11) {
        rank_key k = random_key();
        REQUIRE(t.count_before(k) == model_lower(m, k));
        REQUIRE(t.contains(k) == model_has(m, k));
      } else if (r == 12) {
        const uint64_t i = pick(m.size() + 2);
        tree_cursor c = t.at(i);
        REQUIRE(c.valid() == (i < m.size()));
        if (c.valid()) {
          REQUIRE(c.key() == m[i].first);
          REQUIRE(c.rec().name() == m[i].second);
        }
      } else if (r == 13) {
        rank_key k = random_key();
        uint64_t i = model_lower(m, k);
        tree_cursor c = t.lower_bound(k);
        for (int s = 0; s < 6; ++s, ++i, c.next()) {
          REQUIRE(c.valid() == (i < m.size()));
          if (!c.valid())
            break;
          INFO("key " << key_str(m[i].first));
          REQUIRE(c.key() == m[i].first);
          REQUIRE(c.rec().name() == m[i].second);
        }
      } else if (r == 14) {
        if (m.empty())
          continue;
        uint64_t i = pick(m.size());
        tree_cursor c = t.at(i);
        for (int s = 0; s < 6; ++s, c.prev()) {
          REQUIRE(c.valid());
          REQUIRE(c.key() == m[i].first);
          if (i-- == 0) {
            c.prev();
            REQUIRE_FALSE(c.valid());
            break;
          }
        }
      } else if (pick(30) == 0) {
        snaps.push_back({t.freeze(), m});
        if (snaps.size() > 6) {
          // Drop one at random (not always the oldest), checking it first.
          const std::size_t j = pick(snaps.size());
          check_all(snaps[j].tree, snaps[j].contents);
          ++snapshots_checked;
          snaps.erase(snaps.begin() + static_cast<std::ptrdiff_t>(j));
        }
      }
      REQUIRE(t.size() == m.size());
      check_invariants(&t, snaps);
      max_size = std::max(max_size, m.size());

      if (op % 10000 == 9999)
        check_all(t, m);
    }
    check_all(t, m);
    for (const snapshot& s : snaps) {
      check_all(s.tree, s.contents);
      ++snapshots_checked;
    }
    // The tree goes away before the snapshots: they must keep their nodes.
  }
  check_invariants(nullptr, snaps);
  for (const snapshot& s : snaps)
    check_all(s.tree, s.contents);
  CHECK(max_size > 2000); // deep enough for three levels
  CHECK(snapshots_checked > 20);
  snaps.clear();
  guard.check();
}

TEST_CASE("empty tree") {
  leak_guard guard;
  {
    order_tree t;
    CHECK(t.size() == 0);
    CHECK_FALSE(t.begin().valid());
    CHECK_FALSE(t.at(0).valid());
    CHECK_FALSE(t.lower_bound(rank_key{}).valid());
    CHECK(t.count_before(rank_key{u64max, u64max, u64max}) == 0);
    CHECK_FALSE(t.contains(rank_key{}));
    CHECK_FALSE(t.erase(rank_key{}));
    frozen_tree f = t.freeze();
    CHECK(f.size() == 0);
    CHECK_FALSE(f.begin().valid());
    t.clear();
    CHECK(t.size() == 0);
    CHECK(order_tree::live_nodes() == guard.nodes);
  }
  guard.check();
}

TEST_CASE("single element") {
  leak_guard guard;
  {
    order_tree t;
    const rank_key k{5, 5, 5};
    t.insert(k, make_rec("x"));
    CHECK(t.size() == 1);
    CHECK(t.contains(k));
    CHECK_FALSE(t.contains(rank_key{5, 5, 4}));
    CHECK(t.count_before(k) == 0);
    CHECK(t.count_before(rank_key{5, 5, 6}) == 1);

    tree_cursor c = t.begin();
    REQUIRE(c.valid());
    CHECK(c.key() == k);
    CHECK(c.rec().name() == "x");
    c.next();
    CHECK_FALSE(c.valid());
    c = t.begin();
    c.prev();
    CHECK_FALSE(c.valid());

    CHECK(t.lower_bound(rank_key{0, 0, 0}).key() == k);
    CHECK(t.lower_bound(k).key() == k);
    CHECK_FALSE(t.lower_bound(rank_key{5, 5, 6}).valid());
    CHECK_FALSE(t.at(1).valid());

    frozen_tree f = t.freeze();
    CHECK(t.erase(k));
    CHECK_FALSE(t.erase(k));
    CHECK(t.size() == 0);
    CHECK_FALSE(t.begin().valid());
    REQUIRE(f.size() == 1);
    CHECK(f.begin().key() == k);
    CHECK(f.begin().rec().name() == "x");
  }
  guard.check();
}

TEST_CASE("erase all, in random order, frees every node") {
  leak_guard guard;
  std::mt19937_64 rng(7);
  order_tree t;
  std::vector<rank_key> keys;
  for (uint64_t i = 0; i < 5000; ++i)
    keys.push_back(rank_key{i % 3, 0, i});
  std::shuffle(keys.begin(), keys.end(), rng);
  for (const rank_key& k : keys)
    t.insert(k, make_rec("n"));
  // Leaves at least half full and a few inner nodes on top.
  const int64_t nodes = order_tree::live_nodes() - guard.nodes;
  CHECK(nodes <= 5000 / 16 + 30);
  CHECK(nodes >= 5000 / 32);

  std::shuffle(keys.begin(), keys.end(), rng);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    REQUIRE(t.erase(keys[i]));
    REQUIRE(t.size() == keys.size() - i - 1);
    REQUIRE(t.check_invariants() == "");
    if (i == keys.size() - 11) {
      // Ten entries left: one leaf, nothing else.
      CHECK(order_tree::live_nodes() - guard.nodes == 1);
      CHECK(entry_rec::live_count() - guard.recs == 10);
    }
  }
  CHECK(t.size() == 0);
  CHECK_FALSE(t.begin().valid());
  guard.check();

  t.insert(keys[0], make_rec("again"));
  CHECK(t.begin().rec().name() == "again");
  t.clear();
  guard.check();
}

TEST_CASE("sequential inserts and erases from either end") {
  leak_guard guard;
  {
    order_tree up, down;
    model m;
    for (uint64_t i = 0; i < 3000; ++i) {
      up.insert(rank_key{1, 1, i}, make_rec(std::to_string(i)));
      down.insert(rank_key{1, 1, 2999 - i}, make_rec(std::to_string(2999 - i)));
      m.push_back({rank_key{1, 1, i}, std::to_string(i)});
    }
    check_all(up, m);
    check_all(down, m);
    CHECK(up.check_invariants() == "");
    CHECK(down.check_invariants() == "");
    for (uint64_t i = 0; i < 1500; ++i) {
      REQUIRE(up.erase(rank_key{1, 1, i}));
      REQUIRE(down.erase(rank_key{1, 1, 2999 - i}));
    }
    check_all(up, model(m.begin() + 1500, m.end()));
    check_all(down, model(m.begin(), m.begin() + 1500));
    CHECK(up.check_invariants() == "");
    CHECK(down.check_invariants() == "");
  }
  guard.check();
}

TEST_CASE("keys at the extremes") {
  leak_guard guard;
  {
    order_tree t;
    const std::vector<rank_key> sorted = {
      {0, 0, 0},
      {0, 0, u64max},
      {0, u64max, 0},
      {1, 0, 0},
      {u64max, 0, 0},
      {u64max, u64max, u64max - 1},
      {u64max, u64max, u64max},
    };
    model m;
    for (std::size_t i = 0; i < sorted.size(); ++i)
      m.push_back({sorted[i], "k" + std::to_string(i)});
    for (std::size_t i : {6, 0, 3, 5, 1, 4, 2})
      t.insert(sorted[i], make_rec("k" + std::to_string(i)));
    check_all(t, m);
    CHECK(t.count_before(rank_key{0, 0, 0}) == 0);
    CHECK(t.count_before(rank_key{u64max, u64max, u64max}) == 6);
    CHECK(t.lower_bound(rank_key{u64max, u64max, u64max}).key() == sorted[6]);
    CHECK(t.lower_bound(rank_key{0, 0, 1}).key() == sorted[1]);
    CHECK(t.lower_bound(rank_key{1, 0, 1}).key() == sorted[4]);
    CHECK(t.erase(sorted[6]));
    CHECK(t.erase(sorted[0]));
    CHECK_FALSE(t.lower_bound(rank_key{u64max, u64max, u64max}).valid());
    CHECK(t.begin().key() == sorted[1]);
  }
  guard.check();
}

TEST_CASE("records keep name and meta") {
  leak_guard guard;
  {
    const std::string long_name(128, 'n');
    const meta_value str_meta{"{\"lvl\":3}", false};
    const meta_value bin_meta{std::string("\x00\xff\x01", 3), true};
    const meta_value empty_meta{"", false};

    order_tree t;
    t.insert({1, 0, 0}, rec_ptr(entry_rec::make("a", std::nullopt)));
    t.insert({2, 0, 0}, rec_ptr(entry_rec::make(long_name, str_meta)));
    t.insert({3, 0, 0}, rec_ptr(entry_rec::make("b", bin_meta)));
    t.insert({4, 0, 0}, rec_ptr(entry_rec::make(long_name, empty_meta)));

    tree_cursor c = t.begin();
    CHECK(c.rec().name() == "a");
    CHECK_FALSE(c.rec().has_meta());
    CHECK_FALSE(c.rec().meta().has_value());
    c.next();
    CHECK(c.rec().name() == long_name);
    CHECK(c.rec().has_meta());
    CHECK(c.rec().meta() == std::optional<meta_value>(str_meta));
    c.next();
    CHECK(c.rec().name() == "b");
    REQUIRE(c.rec().meta().has_value());
    CHECK(c.rec().meta()->is_bin);
    CHECK(c.rec().meta()->bytes == bin_meta.bytes);
    c.next();
    CHECK(c.rec().name() == long_name);
    CHECK(c.rec().has_meta()); // present but empty is not absent
    CHECK(c.rec().meta() == std::optional<meta_value>(empty_meta));
    CHECK(entry_rec::live_count() - guard.recs == 4);

    // A record shared by the tree and a handle outlives the tree's copy.
    rec_ptr shared = make_rec("shared");
    t.insert({5, 0, 0}, shared);
    CHECK(t.erase({5, 0, 0}));
    CHECK(shared->name() == "shared");
    CHECK(entry_rec::live_count() - guard.recs == 5);
  }
  guard.check();
}

TEST_CASE("writes after a freeze copy only the path, and reuse it once the snapshot is gone") {
  leak_guard guard;
  {
    order_tree t;
    for (uint64_t i = 0; i < 4000; i += 2)
      t.insert({0, 0, i}, make_rec("e"));
    const rank_key x{0, 0, 1001};
    // Insert x now so that its leaf cannot underflow when x is erased again.
    t.insert(x, make_rec("x"));
    {
      frozen_tree f = t.freeze();
      const int64_t before = order_tree::live_nodes();
      CHECK(t.erase(x));
      // One copy per level; 2000 entries make three levels.
      CHECK(order_tree::live_nodes() - before == 3);
      CHECK(f.contains(x));
      CHECK_FALSE(t.contains(x));
    }
    // The snapshot is gone: the copies are the only owners, so re-stamping
    // reuses them.
    t.insert(x, make_rec("x"));
    (void) t.freeze();
    const int64_t before = order_tree::live_nodes();
    CHECK(t.erase(x));
    CHECK(order_tree::live_nodes() == before);

    // A miss copies nothing even with a snapshot held.
    frozen_tree f = t.freeze();
    CHECK_FALSE(t.erase(x));
    CHECK(order_tree::live_nodes() == before);
  }
  guard.check();
}

TEST_CASE("frozen_tree copies, moves and outliving the tree") {
  leak_guard guard;
  {
    model m;
    frozen_tree keep;
    {
      order_tree t;
      for (uint64_t i = 0; i < 500; ++i) {
        t.insert({i % 7, i % 2, i}, make_rec("r" + std::to_string(i)));
      }
      for (tree_cursor c = t.begin(); c.valid(); c.next())
        m.push_back({c.key(), std::string(c.rec().name())});
      frozen_tree a = t.freeze();
      frozen_tree b = a;            // copy
      frozen_tree c = std::move(a); // move
      CHECK(a.size() == 0);
      keep = b;          // copy-assign
      b = frozen_tree(); // drop
      CHECK(c.size() == 500);
      t.clear();
      CHECK(t.size() == 0);
      check_all(c, m);

      order_tree moved(std::move(t));
      moved.insert({9, 9, 9}, make_rec("z"));
      order_tree other;
      other.insert({1, 1, 1}, make_rec("y"));
      other = std::move(moved);
      CHECK(other.size() == 1);
      CHECK(other.begin().rec().name() == "z");
    }
    check_all(keep, m);
  }
  guard.check();
}

TEST_CASE("snapshots released on other threads while the tree changes") {
  leak_guard guard;
  {
    std::mt19937_64 rng(99);
    order_tree t;
    model m;
    uint64_t next = 0;
    auto add = [&](rank_key k) {
      if (t.contains(k))
        return;
      std::string name = "t" + std::to_string(next++);
      t.insert(k, make_rec(name));
      m.insert(m.begin() + static_cast<std::ptrdiff_t>(model_lower(m, k)), {k, name});
    };
    for (int i = 0; i < 3000; ++i)
      add(rank_key{rng() % 4, 0, rng() % 100000});

    std::vector<std::thread> readers;
    std::vector<int> ok(8, 0);
    for (int round = 0; round < 8; ++round) {
      frozen_tree snap = t.freeze();
      // Each reader walks its snapshot, compares it with the model at the
      // time of the freeze, then drops the last reference to it while the
      // main thread rewrites (and frees) the nodes it shares with it.
      readers.emplace_back([snap = std::move(snap), expect = m, &flag = ok[round]]() mutable {
        bool same = snap.size() == expect.size();
        std::size_t i = 0;
        for (tree_cursor c = snap.begin(); c.valid() && same; c.next(), ++i)
          same = i < expect.size() && c.key() == expect[i].first
                 && c.rec().name() == expect[i].second;
        same = same && i == expect.size();
        snap = frozen_tree();
        flag = same ? 1 : -1;
      });
      for (int i = 0; i < 400; ++i) {
        if (!m.empty() && rng() % 2) {
          const std::size_t j = rng() % m.size();
          REQUIRE(t.erase(m[j].first));
          m.erase(m.begin() + static_cast<std::ptrdiff_t>(j));
        } else {
          add(rank_key{rng() % 4, 0, rng() % 100000});
        }
      }
    }
    // Also drop the tree while a reader may still hold a snapshot.
    frozen_tree last = t.freeze();
    model last_model = m;
    t.clear();
    bool tail_ok = false;
    std::thread tail([last = std::move(last), &last_model, &tail_ok]() mutable {
      tail_ok = last.size() == last_model.size()
                && last.count_before(last_model.back().first) == last_model.size() - 1;
      last = frozen_tree();
    });
    for (std::thread& r : readers)
      r.join();
    tail.join();
    for (int f : ok)
      CHECK(f == 1);
    CHECK(tail_ok);
  }
  guard.check();
}

namespace {

namespace detail = lb::ranking::detail;

// The root node behind a tree, to damage it on purpose: a tree_reader's
// root is protected, and a pointer to that member taken in a derived class
// reads it in any tree_reader.
struct tree_internals : tree_reader {
  static detail::tree_node* root(const tree_reader& t) {
    return const_cast<detail::tree_node*>(t.*(&tree_internals::root_));
  }
};

detail::inner_node* inner(detail::tree_node* n) {
  REQUIRE_FALSE(n->leaf);
  return detail::as_inner(n);
}

detail::leaf_node* leaf(const detail::tree_node* n) {
  REQUIRE(n->leaf);
  return const_cast<detail::leaf_node*>(detail::as_leaf(n));
}

// Whether a check's report names invariant `n` as the one broken.
bool names(const std::string& report, int n) {
  return report.rfind("invariant (" + std::to_string(n) + ") broken", 0) == 0;
}

} // namespace

// check_invariants() must not pass a broken tree: each subcase damages one
// field the way a bug in the tree could, checks that the report names the
// invariant it breaks, and repairs the field before the tree goes.
TEST_CASE("check_invariants names the invariant a damaged tree breaks") {
  leak_guard guard;
  {
    order_tree t;
    for (uint64_t i = 0; i < 2000; ++i)
      t.insert({0, 0, 2 * i}, make_rec("d"));
    frozen_tree snap = t.freeze();
    // Erasing the first key makes the path to the first leaf the live
    // tree's own again; the rest stays shared with the snapshot.
    REQUIRE(t.erase({0, 0, 0}));
    REQUIRE(t.check_invariants() == "");
    REQUIRE(snap.check_invariants(&t) == "");
    REQUIRE(tree_reader::check_references({&t, &snap}) == "");

    // Three levels: root, inner nodes, leaves.
    detail::inner_node* root = inner(tree_internals::root(t));
    detail::inner_node* own = inner(const_cast<detail::tree_node*>(root->kids[0]));
    detail::inner_node* shared = inner(const_cast<detail::tree_node*>(root->kids[1]));
    detail::leaf_node* shared_leaf = leaf(shared->kids[1]);
    const uint32_t live = root->epoch;
    REQUIRE(own->epoch == live);
    REQUIRE(shared->epoch < live);

    SUBCASE("(1) a leaf one level up") {
      const detail::tree_node* kid = root->kids[1];
      const uint64_t count = root->counts[1];
      root->kids[1] = shared->kids[0];
      root->counts[1] = shared->counts[0];
      CHECK(names(t.check_invariants(), 1));
      root->kids[1] = kid;
      root->counts[1] = count;
    }
    SUBCASE("(2) an overfull node") {
      const uint32_t n = shared_leaf->n;
      shared_leaf->n = detail::fanout + 1;
      CHECK(names(t.check_invariants(), 2));
      shared_leaf->n = n;
    }
    SUBCASE("(3) an underfull leaf, an inner root of one child") {
      const uint32_t n = shared_leaf->n;
      shared_leaf->n = detail::min_fill - 1;
      CHECK(names(t.check_invariants(), 3));
      shared_leaf->n = n;
      const uint32_t kids = root->n;
      root->n = 1;
      CHECK(names(t.check_invariants(), 3));
      root->n = kids;
    }
    SUBCASE("(4) two keys out of order") {
      std::swap(shared_leaf->keys()[2], shared_leaf->keys()[3]);
      CHECK(names(t.check_invariants(), 4));
      std::swap(shared_leaf->keys()[2], shared_leaf->keys()[3]);
    }
    SUBCASE("(5) a bound above its child's first key") {
      const rank_key bound = shared->keys[1];
      shared->keys[1].seq += 1;
      CHECK(names(t.check_invariants(), 5));
      shared->keys[1] = bound;
    }
    SUBCASE("(6) a count off by one") {
      shared_leaf->count += 1;
      CHECK(names(t.check_invariants(), 6));
      shared_leaf->count -= 1;
      root->counts[1] += 1;
      CHECK(names(t.check_invariants(), 6));
      root->counts[1] -= 1;
    }
    SUBCASE("(7) a missing record, a reference too many") {
      const entry_rec* rec = shared_leaf->recs()[0];
      shared_leaf->recs()[0] = nullptr;
      CHECK(names(t.check_invariants(), 7));
      shared_leaf->recs()[0] = rec;
      shared_leaf->refs.fetch_add(1);
      CHECK(names(tree_reader::check_references({&t, &snap}), 7));
      shared_leaf->refs.fetch_sub(1);
      // Without the snapshot, its references are unaccounted for.
      CHECK(names(tree_reader::check_references({&t}), 7));
    }
    SUBCASE("(8) a node newer than its parent, or than the live tree") {
      const auto leaf_epoch = shared_leaf->epoch;
      shared_leaf->epoch = live;
      CHECK(names(t.check_invariants(), 8));
      shared_leaf->epoch = leaf_epoch;
      root->epoch = live + 1;
      CHECK(names(t.check_invariants(), 8));
      root->epoch = live;
    }
    SUBCASE("(9) a node of the live epoch that something else holds") {
      own->refs.fetch_add(1);
      CHECK(names(t.check_invariants(), 9));
      own->refs.fetch_sub(1);
    }
    SUBCASE("(10) a snapshot's node stamped with the live epoch") {
      detail::tree_node* snap_root = tree_internals::root(snap);
      const uint32_t epoch = snap_root->epoch;
      snap_root->epoch = live;
      CHECK(names(snap.check_invariants(&t), 10));
      CHECK(snap.check_invariants() == ""); // without its source, (10) is not checked
      snap_root->epoch = epoch;
    }
    SUBCASE("(12) a leaf below the root with less room than F") {
      shared_leaf->cap = detail::fanout / 2;
      CHECK(names(t.check_invariants(), 12));
      shared_leaf->cap = detail::fanout;
    }
    CHECK(t.check_invariants() == "");
    CHECK(snap.check_invariants(&t) == "");
  }
  guard.check();
}

TEST_CASE("a small tree's root leaf has room for what it holds (12)") {
  leak_guard guard;
  {
    order_tree t;
    std::deque<frozen_tree> snaps;
    model m;
    for (uint64_t i = 0; i < 70; ++i) {
      const rank_key k{70 - i, 0, i};
      t.insert(k, make_rec("p" + std::to_string(i)));
      m.insert(m.begin() + static_cast<std::ptrdiff_t>(model_lower(m, k)),
               {k, "p" + std::to_string(i)});
      REQUIRE(t.check_invariants() == "");
      if (i < detail::fanout) {
        auto* root = static_cast<const detail::leaf_node*>(tree_internals::root(t));
        uint32_t room = 1;
        while (room < i + 1)
          room *= 2;
        CHECK(root->cap == room);
      }
      if (i % 5 == 0)
        snaps.push_back(t.freeze()); // growing copies nothing a snapshot holds
      check_all(t, m);
    }
    for (auto& s : snaps)
      REQUIRE(s.check_invariants(&t) == "");
    REQUIRE(tree_reader::check_references([&] {
              std::vector<const tree_reader*> all{&t};
              for (auto& s : snaps)
                all.push_back(&s);
              return all;
            }())
            == "");
  }
  guard.check();
}

TEST_CASE("the digest follows the contents, not the history (11)") {
  auto meta_rec = [](const std::string& name, const std::string& meta) {
    return rec_ptr(entry_rec::make(name, meta_value{meta, false}));
  };
  order_tree a, b;
  for (uint64_t i = 0; i < 500; ++i)
    a.insert({i % 7, i, i}, make_rec("p" + std::to_string(i)));
  // The same entries in reverse, with other seqs, after a detour.
  b.insert({99, 99, 9999}, make_rec("gone"));
  for (uint64_t i = 500; i-- > 0;)
    b.insert({i % 7, i, 1000 + i}, make_rec("p" + std::to_string(i)));
  auto frozen = b.freeze();
  REQUIRE(b.erase({99, 99, 9999}));
  CHECK(a.digest() == b.digest());
  CHECK(frozen.digest() != b.digest()); // the snapshot kept its own
  CHECK(frozen.check_invariants(&b) == "");
  CHECK(b.check_invariants() == "");
  // One field differs: the digest does.
  REQUIRE(a.erase({3, 3, 3}));
  a.insert({3, 3, 3}, meta_rec("p3", "x"));
  CHECK(a.digest() != b.digest());
  a.clear();
  CHECK(a.digest() == lb::ranking::content_digest{});
}
