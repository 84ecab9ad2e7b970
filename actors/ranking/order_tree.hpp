// An order-statistic tree of rank_keys: a counted B+tree whose nodes are
// shared copy-on-write between the live tree of one shard and any number of
// frozen snapshots of it.
//
// Why this shape: a shard actor mutates its live tree; every merge tick it
// freezes the tree and hands the frozen root to the merge actor, which
// publishes it to readers on other threads. Freezing is O(1): it only bumps
// the tree's epoch. A node stamped with the current epoch is owned by the live
// tree alone and is changed in place ("transient"); the first write to an
// older node copies it (path copying), unless no snapshot holds it any more
// (reference count 1), in which case it is re-stamped and reused. So a merge
// costs what changed since the last one, not the size of the board.
//
// Every node keeps the count of entries below it, which gives O(log n)
// count_before (rank) and select-by-position. Leaves hold up to 32 entries
// of (key, record); wide nodes keep the tree shallow and the memory per entry
// close to the entry's own size.
//
// Thread rules: an order_tree is used by one actor only. A frozen_tree is
// immutable and may be read from any thread; node and record reference counts
// are atomic so the last reader to drop a snapshot frees what it alone held.
#pragma once

#include <cstdint>
#include <utility>

#include "actors/ranking/entry_rec.hpp"
#include "actors/ranking/rank_key.hpp"

namespace lb::ranking {

namespace detail {
struct tree_node;
} // namespace detail

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
  static constexpr int max_depth = 16; // 32^16 entries: more than enough
  struct step {
    const detail::tree_node* node;
    int index;
  };
  step path_[max_depth];
  int depth_ = 0;
};

// Read-only operations shared by the live tree and frozen snapshots.
class tree_reader {
public:
  uint64_t size() const;
  // Number of entries whose key is smaller (ranks better) than `k`; the rank
  // of an entry with key k is count_before(k) + 1.
  uint64_t count_before(const rank_key& k) const;
  bool contains(const rank_key& k) const;
  tree_cursor begin() const;
  tree_cursor at(uint64_t position) const;          // 0-based; invalid if >= size()
  tree_cursor lower_bound(const rank_key& k) const; // first entry >= k

protected:
  const detail::tree_node* root_ = nullptr;
};

// An immutable snapshot; copying it is one reference-count increment.
class frozen_tree : public tree_reader {
public:
  frozen_tree() = default;
  frozen_tree(const frozen_tree& o);
  frozen_tree(frozen_tree&& o) noexcept;
  frozen_tree& operator=(frozen_tree o) noexcept;
  ~frozen_tree();

private:
  friend class order_tree;
  explicit frozen_tree(const detail::tree_node* adopt) { root_ = adopt; }
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

private:
  uint32_t epoch_;
};

} // namespace lb::ranking
