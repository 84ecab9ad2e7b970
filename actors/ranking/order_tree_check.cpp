// The invariant checks of order_tree, for tests: each walks the whole tree.
// The numbers are those of the Invariants block in order_tree.hpp.
#include <algorithm>
#include <string>
#include <vector>

#include "actors/ranking/order_tree.hpp"
#include "actors/ranking/order_tree_node.hpp"

namespace lb::ranking {

// In detail, where the node types and constants need no qualifying.
namespace detail {
namespace {

std::string text(const rank_key& k) {
  return std::to_string(k.primary) + "/" + std::to_string(k.secondary) + "/"
         + std::to_string(k.seq);
}

std::string text(uint64_t v) {
  return std::to_string(v);
}

// One walk in key order, stopping at the first violation. `lo` and `hi`
// are the bounds (5) that the path from the root sets on a subtree's keys:
// lo <= key < hi, nullptr where the path sets none.
class structure_walk {
public:
  structure_walk(std::optional<uint32_t> live_epoch, bool is_live)
    : live_epoch_(live_epoch), is_live_(is_live) {}

  std::string run(const tree_node* root) {
    if (root != nullptr)
      node(root, nullptr, 1, nullptr, nullptr);
    return failure_;
  }
  // The entries' digest, summed as the walk met them (11).
  const content_digest& digest() const { return digest_; }

private:
  // Records the violation; false, so that the walk stops.
  bool fail(int invariant, int depth, const std::string& what) {
    failure_ = "invariant (" + text(static_cast<uint64_t>(invariant)) + ") broken at depth "
               + text(static_cast<uint64_t>(depth)) + ": " + what;
    return false;
  }

  bool node(const tree_node* n, const tree_node* parent, int depth, const rank_key* lo,
            const rank_key* hi) {
    return shape(n, parent, depth) && epoch(n, parent, depth)
           && (n->leaf ? leaf(as_leaf(n), depth, lo, hi) : inner(as_inner(n), depth, lo, hi));
  }

  bool shape(const tree_node* n, const tree_node* parent, int depth) {
    // Checked before going deeper, so that a cycle cannot recurse for ever.
    if (depth > max_height)
      return fail(1, depth, "the tree is taller than " + text(max_height));
    auto items = [n] {
      return (n->leaf ? "a leaf" : "an inner node") + std::string(" with n = ") + text(n->n);
    };
    if (n->n > fanout)
      return fail(2, depth, items());
    const uint32_t least = parent != nullptr ? min_fill : n->leaf ? 1 : 2;
    if (n->n < least)
      return fail(3, depth, items() + (parent != nullptr ? "" : " at the root"));
    if (n->refs.load(std::memory_order_relaxed) == 0)
      return fail(7, depth, "a reachable node without references");
    return true;
  }

  bool epoch(const tree_node* n, const tree_node* parent, int depth) {
    auto at = [n] { return "a node of epoch " + text(n->epoch); };
    if (parent != nullptr && n->epoch > parent->epoch)
      return fail(8, depth, at() + " under one of epoch " + text(parent->epoch));
    if (!live_epoch_)
      return true;
    const uint32_t live = *live_epoch_;
    if (!is_live_) {
      if (n->epoch >= live)
        return fail(10, depth, at() + " in a snapshot; the live epoch is " + text(live));
      return true;
    }
    if (n->epoch > live)
      return fail(8, depth, at() + " above the live epoch " + text(live));
    // Its parent carries the live epoch too: (8) leaves no other choice.
    const uint32_t refs = n->refs.load(std::memory_order_relaxed);
    if (n->epoch == live && refs != 1)
      return fail(9, depth, at() + " (the live one) with " + text(refs) + " references");
    return true;
  }

  bool leaf(const leaf_node* l, int depth, const rank_key* lo, const rank_key* hi) {
    if (leaf_depth_ == 0)
      leaf_depth_ = depth;
    else if (depth != leaf_depth_)
      return fail(1, depth, "a leaf here and one at depth " + text(leaf_depth_));
    if (l->count != l->n)
      return fail(6, depth, "a leaf of " + text(l->n) + " entries counts " + text(l->count));
    if (l->n > l->cap || l->cap > fanout || (l->cap & (l->cap - 1)) != 0
        || (depth > 1 && l->cap != fanout))
      return fail(12, depth, "a leaf of " + text(l->n) + " entries has room for " + text(l->cap));
    for (uint32_t i = 0; i < l->n; ++i) {
      const rank_key& k = l->keys()[i];
      if (l->recs()[i] == nullptr)
        return fail(7, depth, "key " + text(k) + " has no record");
      digest_.add(entry_digest(k, *l->recs()[i]));
      const rank_key* before = i > 0 ? &l->keys()[i - 1] : prev_;
      if (before != nullptr && !(*before < k))
        return fail(4, depth, "key " + text(k) + " follows " + text(*before));
    }
    // (3) leaves no leaf empty, and (4) the first and last key decide (5).
    const rank_key& first = l->keys()[0];
    const rank_key& last = l->keys()[l->n - 1];
    if (lo != nullptr && first < *lo)
      return fail(5, depth, "key " + text(first) + " is below its subtree's bound " + text(*lo));
    if (hi != nullptr && !(last < *hi))
      return fail(5, depth, "key " + text(last) + " is not below the next bound " + text(*hi));
    prev_ = &last;
    return true;
  }

  bool inner(const inner_node* in, int depth, const rank_key* lo, const rank_key* hi) {
    uint64_t sum = 0;
    for (uint32_t i = 0; i < in->n; ++i) {
      const tree_node* kid = in->kids[i];
      if (kid == nullptr)
        return fail(7, depth, "child " + text(i) + " is null");
      if (in->counts[i] != kid->count)
        return fail(6, depth,
                    "child " + text(i) + " counts " + text(kid->count) + ", its parent says "
                      + text(in->counts[i]));
      sum += in->counts[i];
      // keys[0] is not a bound (5): the first child inherits the parent's.
      const rank_key* kid_lo = i == 0 ? lo : &in->keys[i];
      const rank_key* kid_hi = i + 1 < in->n ? &in->keys[i + 1] : hi;
      if (!node(kid, in, depth + 1, kid_lo, kid_hi))
        return false;
    }
    if (in->count != sum)
      return fail(6, depth,
                  "an inner node counts " + text(in->count) + ", its children " + text(sum));
    return true;
  }

  const std::optional<uint32_t> live_epoch_;
  const bool is_live_;
  content_digest digest_;          // of the entries met, for (11)
  int leaf_depth_ = 0;             // of the first leaf, for (1)
  const rank_key* prev_ = nullptr; // the last key met, for (4)
  std::string failure_;
};

} // namespace
} // namespace detail

using detail::as_inner;
using detail::max_height;
using detail::text;
using detail::tree_node;

std::string tree_reader::check_structure(std::optional<uint32_t> live_epoch, bool is_live) const {
  detail::structure_walk walk(live_epoch, is_live);
  auto failure = walk.run(root_);
  if (failure.empty() && walk.digest() != digest_)
    failure = "invariant (11) broken: the tree's digest is " + digest_.hex()
              + ", its entries sum to " + walk.digest().hex();
  return failure;
}

std::string tree_reader::check_references(const std::vector<const tree_reader*>& holders) {
  // Pointers at a node come from holders and from nodes one level up. With
  // every leaf at one depth (1), a node has the same height in every tree,
  // so counting height by height from the top meets every pointer at a node
  // before its count is judged, and expands each distinct node once.
  std::vector<const tree_node*> at_height[max_height + 1];
  for (const tree_reader* h : holders) {
    if (h->root_ == nullptr)
      continue;
    int height = 1;
    for (const tree_node* n = h->root_; !n->leaf && height <= max_height; ++height)
      n = as_inner(n)->kids[0];
    if (height > max_height)
      return "invariant (1) broken: a tree is taller than " + text(max_height);
    at_height[height].push_back(h->root_);
  }
  for (int height = max_height; height >= 1; --height) {
    std::vector<const tree_node*>& met = at_height[height];
    std::sort(met.begin(), met.end());
    for (std::size_t i = 0, j = 0; i < met.size(); i = j) {
      const tree_node* n = met[i];
      while (j < met.size() && met[j] == n)
        ++j;
      const uint32_t refs = n->refs.load(std::memory_order_relaxed);
      if (refs != j - i)
        return "invariant (7) broken: a node of epoch " + text(n->epoch) + " has " + text(refs)
               + " references and " + text(j - i) + " holders";
      if (!n->leaf && height > 1)
        for (uint32_t k = 0; k < n->n; ++k)
          at_height[height - 1].push_back(as_inner(n)->kids[k]);
    }
  }
  return {};
}

std::string frozen_tree::check_invariants(const order_tree* source) const {
  return check_structure(source != nullptr ? std::optional<uint32_t>(source->epoch_) : std::nullopt,
                         false);
}

std::string order_tree::check_invariants() const {
  return check_structure(epoch_, true);
}

} // namespace lb::ranking
