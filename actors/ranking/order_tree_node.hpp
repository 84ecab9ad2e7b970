// The nodes of order_tree (order_tree.hpp states their invariants), shared
// by the tree's operations and its invariant checks. Internal to the tree
// and to the test that damages nodes to see the checks fail.
#pragma once

#include <atomic>
#include <cstdint>

#include "actors/ranking/entry_rec.hpp"
#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/rank_key.hpp"

namespace lb::ranking::detail {

// F of (2). 32 keeps a node about 1 KiB and the tree five levels deep at a
// million entries, of which only the last two are usually out of cache.
constexpr uint32_t fanout = 32;
// F/2 of (3): below this many items a non-root node borrows from or merges
// with a sibling.
constexpr uint32_t min_fill = fanout / 2;

struct tree_node {
  tree_node(uint32_t e, bool is_leaf) : epoch(e), leaf(is_leaf) {}

  mutable std::atomic<uint32_t> refs{1}; // (7)
  uint32_t epoch;                        // (8)-(10)
  uint64_t count = 0;                    // (6)
  uint32_t n = 0;                        // items (leaf) or children (inner)
  bool leaf;
  // Leaf: the entries' keys (4). Inner: the children's bounds (5).
  rank_key keys[fanout];
};

struct leaf_node : tree_node {
  explicit leaf_node(uint32_t e) : tree_node(e, true) {}
  const entry_rec* recs[fanout]; // one reference each (7)
};

struct inner_node : tree_node {
  explicit inner_node(uint32_t e) : tree_node(e, false) {}
  // Kept here as well as in each child (6) so a rank query sums one array
  // instead of touching every child.
  uint64_t counts[fanout];
  const tree_node* kids[fanout]; // one reference each (7)
};

inline const leaf_node* as_leaf(const tree_node* n) {
  return static_cast<const leaf_node*>(n);
}
inline leaf_node* as_leaf(tree_node* n) {
  return static_cast<leaf_node*>(n);
}
inline const inner_node* as_inner(const tree_node* n) {
  return static_cast<const inner_node*>(n);
}
inline inner_node* as_inner(tree_node* n) {
  return static_cast<inner_node*>(n);
}

} // namespace lb::ranking::detail
