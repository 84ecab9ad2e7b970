// The nodes of order_tree (order_tree.hpp states their invariants), shared
// by the tree's operations and its invariant checks. Internal to the tree
// and to the test that damages nodes to see the checks fail.
#pragma once

#include <atomic>
#include <cstddef>
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
};

// A leaf's entries follow its header in the same allocation: `cap` keys,
// then `cap` records. Only a root leaf has room for fewer than F (12), so
// a board of one entry costs one small allocation, not a node of F.
struct leaf_node : tree_node {
  leaf_node(uint32_t e, uint32_t capacity) : tree_node(e, true), cap(capacity) {}
  uint32_t cap;

  static size_t bytes(uint32_t cap) {
    return sizeof(leaf_node) + cap * (sizeof(rank_key) + sizeof(const entry_rec*));
  }
  // The entries' keys (4).
  rank_key* keys() { return reinterpret_cast<rank_key*>(this + 1); }
  const rank_key* keys() const { return reinterpret_cast<const rank_key*>(this + 1); }
  // One reference each (7).
  const entry_rec** recs() { return reinterpret_cast<const entry_rec**>(keys() + cap); }
  const entry_rec* const* recs() const {
    return reinterpret_cast<const entry_rec* const*>(keys() + cap);
  }
};
static_assert(sizeof(leaf_node) % alignof(rank_key) == 0, "keys follow the header aligned");

struct inner_node : tree_node {
  explicit inner_node(uint32_t e) : tree_node(e, false) {}
  // The children's bounds (5).
  rank_key keys[fanout];
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

// A node's keys: a leaf's entries', an inner node's bounds.
inline rank_key* keys_of(tree_node* n) {
  return n->leaf ? as_leaf(n)->keys() : as_inner(n)->keys;
}
inline const rank_key* keys_of(const tree_node* n) {
  return n->leaf ? as_leaf(n)->keys() : as_inner(n)->keys;
}

} // namespace lb::ranking::detail
