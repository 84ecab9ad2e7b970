// An order-statistic tree of rank_keys: a counted B+tree whose nodes are
// shared copy-on-write between the live tree of one shard and any number of
// frozen snapshots of it.
//
// Invariants
// ----------
// F is the fanout (32, in order_tree_node.hpp with the node layout) and H
// the maximum height (16, detail::max_height below). A leaf holds up to F
// entries (key, record), within its room (12); an inner node up to F children, each with a bound
// key and the child's entry count. "Live epoch" is the epoch of the live
// tree.
//
// Shape, in the live tree and in every frozen tree:
//  (1) Every leaf is at the same depth, and the height is at most H, which
//      tree_cursor's fixed-size path relies on.
//  (2) A node holds at most F items (entries or children).
//  (3) A node other than the root holds at least F/2 items, so memory stays
//      within about twice the entries' own size. The root holds at least one
//      entry (a leaf) or two children (an inner node); an empty tree has no
//      root at all.
// Order:
//  (4) Keys strictly increase from leaf to leaf, left to right: an in-order
//      walk meets every key once, best rank first.
//  (5) In an inner node, the bound keys[i] (i >= 1) is at most every key
//      under child i and above every key under child i - 1, so routing by
//      bounds finds the one leaf where a key is or belongs. keys[0] of an
//      inner node is never consulted (the first child also takes every key
//      below the other bounds) and may be stale.
// Counts:
//  (6) A leaf's count is its number of entries; an inner node's counts[i]
//      equals child i's count, and its own count is their sum. So rank and
//      select sum one array per level.
// Sharing:
//  (7) A node's reference count is the number of inner nodes and tree
//      handles (live or frozen) pointing at it; a leaf holds one reference
//      to each of its records. The last holder to let go frees the node.
//  (8) A node's epoch is at most its parent's, and in the live tree at most
//      the live epoch: a node is stamped when the live tree takes it over,
//      and it takes over a path from the root down.
//  (9) A node stamped with the live epoch is reachable only from the live
//      tree: its reference count is 1 and its parent carries the live epoch
//      too. The live tree changes such nodes in place; any other node it
//      copies before writing (path copying), or re-stamps and reuses when
//      its count shows that no snapshot holds it any more.
// (10) A frozen tree never changes, and none of its nodes carries the live
//      epoch of the tree it was frozen from: freezing bumps that epoch, and
//      (9) keeps later writes off every node the snapshot reaches.
// Room:
// (12) A leaf has room for `cap` entries, a power of two: F for every leaf
//      but the root, which may have less (at least its entries). A tree
//      starts as a root leaf of one and doubles it as it fills, so a board
//      of a few entries costs a few dozen bytes, not a leaf of F.
// Content:
// (11) digest() is the sum of entry_digest() over the entries
//      (content_digest.hpp): insert adds an entry's term, erase subtracts
//      it, clear zeroes it, and a frozen tree keeps the sum it was frozen
//      with.
// Tests check all of these with check_invariants() and check_references()
// below, except two: the records' reference counts, which a record keeps to
// itself (the leak tests count records instead), and the first half of
// (10), which the random test checks by comparing each snapshot's contents
// with what it held when taken.
//
// Why this shape: a shard actor mutates its live tree; every merge tick it
// freezes the tree and hands the frozen root to the merge actor, which
// publishes it to readers on other threads. Freezing is O(1): it only bumps
// the tree's epoch (10). So a merge costs what changed since the last one
// (9), not the size of the board.
//
// Counts (6) give O(log n) count_before (rank) and select-by-position. Wide
// nodes (2, 3) keep the tree shallow and the memory per entry close to the
// entry's own size.
//
// Thread rules: an order_tree is used by one actor only. A frozen_tree is
// immutable (10) and may be read from any thread; node and record reference
// counts (7) are atomic so the last reader to drop a snapshot frees what it
// alone held.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/ranking/content_digest.hpp"
#include "actors/ranking/entry_rec.hpp"
#include "actors/ranking/rank_key.hpp"

namespace lb::ranking {

namespace detail {
struct tree_node;
// H of (1). A 17th level would take 2 * 16^16 entries (3).
constexpr int max_height = 16;
} // namespace detail

class order_tree;

// A position in a tree (live or frozen) in rank order. Valid while the tree it
// came from is alive and (for a live tree) not modified.
class tree_cursor {
public:
  bool valid() const { return depth_ > 0; }
  const rank_key& key() const;
  const entry_rec& rec() const;
  void next(); // past the last entry: becomes invalid
  void prev(); // before the first entry: becomes invalid

private:
  friend class tree_reader;
  struct step {
    const detail::tree_node* node;
    int index;
  };
  step path_[detail::max_height]; // (1): no path is longer
  int depth_ = 0;
};

// Read-only operations shared by the live tree and frozen snapshots.
class tree_reader {
public:
  uint64_t size() const;
  // The digest of the entries (content_digest.hpp), kept as they change.
  const content_digest& digest() const { return digest_; }
  // Number of entries whose key is smaller (ranks better) than `k`; the rank
  // of an entry with key k is count_before(k) + 1.
  uint64_t count_before(const rank_key& k) const;
  bool contains(const rank_key& k) const;
  tree_cursor begin() const;
  tree_cursor at(uint64_t position) const;          // 0-based; invalid if >= size()
  tree_cursor lower_bound(const rank_key& k) const; // first entry >= k

  // For tests: invariant (7) exactly. `holders` must be every handle that
  // holds nodes of these trees (a live tree and all its snapshots still
  // alive); then each node's reference count is the number of holders and
  // inner nodes pointing at it. Visits each distinct node once, by height,
  // so it relies on (1): run check_invariants() first. Returns a
  // description of the first node that disagrees, empty when none does.
  static std::string check_references(const std::vector<const tree_reader*>& holders);

protected:
  // The walk behind check_invariants(): (1)-(8), (11) and (12), and with `live_epoch` (9)
  // when `is_live`, else (10).
  std::string check_structure(std::optional<uint32_t> live_epoch, bool is_live) const;

  const detail::tree_node* root_ = nullptr;
  content_digest digest_;
};

// An immutable snapshot; copying it is one reference-count increment.
class frozen_tree : public tree_reader {
public:
  frozen_tree() = default;
  frozen_tree(const frozen_tree& o);
  frozen_tree(frozen_tree&& o) noexcept;
  frozen_tree& operator=(frozen_tree o) noexcept;
  ~frozen_tree();

  // Lets go of the tree as the destructor does, but calls `pause` after
  // every `step` records it releases, so that freeing a big tree does not
  // come in one burst (season.hpp says why). The tree is empty after it.
  void release_paced(uint64_t step, const std::function<void()>& pause);

  // For tests: walks every node and entry (O(n)) and checks invariants
  // (1)-(8), (11), (12), and (10) against `source`, the tree this one was frozen from
  // (skipped when null, e.g. once that tree is gone). Returns a description
  // of the first violation found, empty when all hold.
  std::string check_invariants(const order_tree* source = nullptr) const;

private:
  friend class order_tree;
  frozen_tree(const detail::tree_node* adopt, const content_digest& d) {
    root_ = adopt;
    digest_ = d;
  }
};

class order_tree : public tree_reader {
public:
  order_tree();
  order_tree(const order_tree&) = delete;
  order_tree& operator=(const order_tree&) = delete;
  order_tree(order_tree&& o) noexcept;
  order_tree& operator=(order_tree&& o) noexcept;
  ~order_tree();

  // Precondition: no entry has key k. The tree takes over `rec`.
  void insert(const rank_key& k, rec_ptr rec);
  // Returns false when k is not in the tree.
  bool erase(const rank_key& k);
  void clear();

  // A snapshot of the current contents; later writes do not show in it.
  frozen_tree freeze();

  // Nodes alive in the process, for leak tests.
  static int64_t live_nodes();

  // For tests: walks every node and entry (O(n)) and checks invariants
  // (1)-(9), (11) and (12). Returns a description of the first violation found, empty when
  // all hold.
  std::string check_invariants() const;

private:
  friend class frozen_tree; // check_invariants reads the source's epoch
  uint32_t epoch_;          // the live epoch of (8)-(10)
};

} // namespace lb::ranking
