#include "actors/ranking/order_tree.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <utility>

#include "actors/ranking/order_tree_node.hpp"

namespace lb::ranking {

namespace {

using detail::as_inner;
using detail::as_leaf;
using detail::fanout;
using detail::inner_node;
using detail::leaf_node;
using detail::max_height;
using detail::min_fill;
using detail::tree_node;

// Relaxed: only leak tests read it, after joining the threads involved.
std::atomic<int64_t> live_node_count{0};

leaf_node* new_leaf(uint32_t epoch, uint32_t cap = fanout) {
  live_node_count.fetch_add(1, std::memory_order_relaxed);
  return new (::operator new(leaf_node::bytes(cap))) leaf_node(epoch, cap);
}

inner_node* new_inner(uint32_t epoch) {
  live_node_count.fetch_add(1, std::memory_order_relaxed);
  return new inner_node(epoch);
}

// Frees the node itself; its children or records now belong to someone else.
void free_shell(const tree_node* n) {
  if (n->leaf) {
    as_leaf(n)->~leaf_node();
    ::operator delete(const_cast<tree_node*>(n));
  } else
    delete as_inner(n);
  live_node_count.fetch_sub(1, std::memory_order_relaxed);
}

void add_ref(const tree_node* n) {
  n->refs.fetch_add(1, std::memory_order_relaxed);
}

// acq_rel so that whichever thread drops the last reference sees every
// other holder's reads of the node finished before it frees it.
void unref(const tree_node* n) {
  if (n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
    return;
  if (n->leaf) {
    auto* l = as_leaf(n);
    for (uint32_t i = 0; i < l->n; ++i)
      l->recs()[i]->release();
  } else {
    auto* in = as_inner(n);
    for (uint32_t i = 0; i < in->n; ++i)
      unref(in->kids[i]);
  }
  free_shell(n);
}

// unref, calling `pause` after every `step` records it releases.
struct pacing {
  uint64_t step;
  const std::function<void()>& pause;
  uint64_t released = 0;
};

void unref_paced(const tree_node* n, pacing& p) {
  if (n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
    return;
  if (n->leaf) {
    auto* l = as_leaf(n);
    for (uint32_t i = 0; i < l->n; ++i)
      l->recs()[i]->release();
    p.released += l->n;
    if (p.released >= p.step) {
      p.released -= p.step;
      p.pause();
    }
  } else {
    auto* in = as_inner(n);
    for (uint32_t i = 0; i < in->n; ++i)
      unref_paced(in->kids[i], p);
  }
  free_shell(n);
}

// Copies items [s, s + cnt) of src over [d, d + cnt) of dst (same kind of
// node, possibly the same node, ranges may overlap). References move with
// the items; n and count are the caller's business.
void move_items(tree_node* dst, uint32_t d, const tree_node* src, uint32_t s, uint32_t cnt) {
  std::memmove(static_cast<void*>(keys_of(dst) + d), keys_of(src) + s, cnt * sizeof(rank_key));
  if (dst->leaf) {
    std::memmove(as_leaf(dst)->recs() + d, as_leaf(src)->recs() + s, cnt * sizeof(entry_rec*));
  } else {
    std::memmove(as_inner(dst)->counts + d, as_inner(src)->counts + s, cnt * sizeof(uint64_t));
    std::memmove(as_inner(dst)->kids + d, as_inner(src)->kids + s, cnt * sizeof(tree_node*));
  }
}

void recount(tree_node* n) {
  if (n->leaf) {
    n->count = n->n;
    return;
  }
  uint64_t sum = 0;
  for (uint32_t i = 0; i < n->n; ++i)
    sum += as_inner(n)->counts[i];
  n->count = sum;
}

void put_entry(leaf_node* l, uint32_t pos, const rank_key& k, const entry_rec* r) {
  move_items(l, pos + 1, l, pos, l->n - pos);
  l->keys()[pos] = k;
  l->recs()[pos] = r;
  ++l->n;
}

void put_kid(inner_node* p, uint32_t pos, const rank_key& bound, const tree_node* kid) {
  move_items(p, pos + 1, p, pos, p->n - pos);
  p->keys[pos] = bound;
  p->kids[pos] = kid;
  p->counts[pos] = kid->count;
  ++p->n;
}

void remove_item(tree_node* n, uint32_t pos) {
  move_items(n, pos, n, pos + 1, n->n - pos - 1);
  --n->n;
}

// Moves the upper half of a full node into a new sibling.
tree_node* split(tree_node* n, uint32_t epoch) {
  tree_node* right = n->leaf ? static_cast<tree_node*>(new_leaf(epoch)) : new_inner(epoch);
  const uint32_t half = n->n / 2;
  move_items(right, 0, n, half, n->n - half);
  right->n = n->n - half;
  n->n = half;
  return right;
}

// A private copy of a node for the live tree; the copy holds its own
// references on everything below (7).
tree_node* copy_node(const tree_node* src, uint32_t epoch) {
  tree_node* c;
  if (src->leaf) {
    auto* l = new_leaf(epoch, as_leaf(src)->cap);
    for (uint32_t i = 0; i < src->n; ++i)
      as_leaf(src)->recs()[i]->add_ref();
    c = l;
  } else {
    auto* in = new_inner(epoch);
    for (uint32_t i = 0; i < src->n; ++i)
      add_ref(as_inner(src)->kids[i]);
    c = in;
  }
  move_items(c, 0, src, 0, src->n);
  c->n = src->n;
  c->count = src->count;
  return c;
}

// Makes the node in `slot` writable by the live tree, keeping (9). The
// caller must own the node holding `slot` (or `slot` is the live root), so a
// reference count of 1 means no snapshot can reach this node any more.
tree_node* own(const tree_node*& slot, uint32_t epoch) {
  const tree_node* n = slot;
  if (n->epoch == epoch)
    return const_cast<tree_node*>(n); // created since the last freeze
  // acquire pairs with the release in a snapshot holder's unref, so their
  // reads are finished before we write.
  if (n->refs.load(std::memory_order_acquire) == 1) {
    auto* m = const_cast<tree_node*>(n);
    m->epoch = epoch;
    return m;
  }
  tree_node* c = copy_node(n, epoch);
  slot = c;
  unref(n); // may be the last reference if a snapshot was just dropped
  return c;
}

// A search in a node cold in cache would otherwise wait on its cache lines
// one binary-search step at a time; asking for all of them at once overlaps
// the misses. The span is an inner node's header, keys and counts (a leaf's
// header, keys and first records), so it is issued as soon as the pointer is
// known, without reading the node. Taking the kids too measured slower: the
// extra lines compete with the ones the search waits for.
void prefetch(const tree_node* n) {
  const char* p = reinterpret_cast<const char*>(n);
  constexpr std::size_t span = sizeof(tree_node) + sizeof(inner_node::counts);
  for (std::size_t off = 0; off < span; off += 64)
    __builtin_prefetch(p + off);
}

// The child of `n` whose key range holds k (5): the last one whose bound is
// <= k.
uint32_t route(const inner_node* n, const rank_key& k) {
  uint32_t lo = 1, hi = n->n;
  while (lo < hi) {
    const uint32_t mid = (lo + hi) / 2;
    if (k < n->keys[mid])
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo - 1;
}

// Index of the first entry of `l` whose key is not below k.
uint32_t leaf_lower_bound(const leaf_node* l, const rank_key& k) {
  uint32_t lo = 0, hi = l->n;
  while (lo < hi) {
    const uint32_t mid = (lo + hi) / 2;
    if (l->keys()[mid] < k)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

const leaf_node* find_leaf(const tree_node* n, const rank_key& k) {
  while (!n->leaf) {
    n = as_inner(n)->kids[route(as_inner(n), k)];
    prefetch(n);
  }
  return as_leaf(n);
}

// Restores (3) for child i of p (already owned) by merging it with a
// neighbour or evening out the two.
void rebalance(inner_node* p, uint32_t i, uint32_t epoch) {
  const uint32_t li = i > 0 ? i - 1 : i;
  tree_node* a = own(p->kids[li], epoch);
  tree_node* b = own(p->kids[li + 1], epoch);
  // b's first bound lives in p; b's own keys[0] may be stale (5). Moving
  // b's first child into a needs the real one.
  if (!b->leaf)
    as_inner(b)->keys[0] = p->keys[li + 1];

  if (a->n + b->n <= fanout) {
    move_items(a, a->n, b, 0, b->n);
    a->n += b->n;
    recount(a);
    free_shell(b); // its references now live in a
    remove_item(p, li + 1);
    p->counts[li] = a->count;
    return;
  }

  const uint32_t want_a = (a->n + b->n) / 2;
  if (a->n < want_a) {
    const uint32_t m = want_a - a->n;
    move_items(a, a->n, b, 0, m);
    move_items(b, 0, b, m, b->n - m);
    a->n += m;
    b->n -= m;
  } else {
    const uint32_t m = a->n - want_a;
    move_items(b, m, b, 0, b->n);
    move_items(b, 0, a, want_a, m);
    a->n -= m;
    b->n += m;
  }
  recount(a);
  recount(b);
  p->counts[li] = a->count;
  p->counts[li + 1] = b->count;
  p->keys[li + 1] = keys_of(b)[0];
}

} // namespace

// ---- cursor ----------------------------------------------------------------

const rank_key& tree_cursor::key() const {
  const step& s = path_[depth_ - 1];
  return as_leaf(s.node)->keys()[s.index];
}

const entry_rec& tree_cursor::rec() const {
  const step& s = path_[depth_ - 1];
  return *as_leaf(s.node)->recs()[s.index];
}

void tree_cursor::next() {
  step& leaf = path_[depth_ - 1];
  if (++leaf.index < static_cast<int>(leaf.node->n))
    return;
  // Climb to the nearest ancestor with a child to the right, step over,
  // then take the leftmost path down.
  int d = depth_ - 1;
  while (d > 0 && path_[d - 1].index + 1 >= static_cast<int>(path_[d - 1].node->n))
    --d;
  if (d == 0) {
    depth_ = 0;
    return;
  }
  ++path_[d - 1].index;
  for (; d < depth_; ++d)
    path_[d] = {as_inner(path_[d - 1].node)->kids[path_[d - 1].index], 0};
}

void tree_cursor::prev() {
  step& leaf = path_[depth_ - 1];
  if (--leaf.index >= 0)
    return;
  int d = depth_ - 1;
  while (d > 0 && path_[d - 1].index == 0)
    --d;
  if (d == 0) {
    depth_ = 0;
    return;
  }
  --path_[d - 1].index;
  for (; d < depth_; ++d) {
    const tree_node* kid = as_inner(path_[d - 1].node)->kids[path_[d - 1].index];
    path_[d] = {kid, static_cast<int>(kid->n) - 1};
  }
}

// ---- reads -----------------------------------------------------------------

uint64_t tree_reader::size() const {
  return root_ ? root_->count : 0;
}

uint64_t tree_reader::count_before(const rank_key& k) const {
  if (!root_)
    return 0;
  uint64_t before = 0;
  const tree_node* n = root_;
  while (!n->leaf) {
    const inner_node* in = as_inner(n);
    const uint32_t i = route(in, k);
    n = in->kids[i];
    prefetch(n);
    for (uint32_t j = 0; j < i; ++j)
      before += in->counts[j];
  }
  return before + leaf_lower_bound(as_leaf(n), k);
}

bool tree_reader::contains(const rank_key& k) const {
  if (!root_)
    return false;
  const leaf_node* l = find_leaf(root_, k);
  const uint32_t i = leaf_lower_bound(l, k);
  return i < l->n && l->keys()[i] == k;
}

tree_cursor tree_reader::begin() const {
  return at(0);
}

tree_cursor tree_reader::at(uint64_t position) const {
  tree_cursor c;
  if (!root_ || position >= root_->count)
    return c;
  const tree_node* n = root_;
  while (!n->leaf) {
    const inner_node* in = as_inner(n);
    uint32_t i = 0;
    while (position >= in->counts[i])
      position -= in->counts[i++];
    c.path_[c.depth_++] = {n, static_cast<int>(i)};
    n = in->kids[i];
    prefetch(n);
  }
  c.path_[c.depth_++] = {n, static_cast<int>(position)};
  return c;
}

tree_cursor tree_reader::lower_bound(const rank_key& k) const {
  tree_cursor c;
  if (!root_)
    return c;
  const tree_node* n = root_;
  while (!n->leaf) {
    const uint32_t i = route(as_inner(n), k);
    c.path_[c.depth_++] = {n, static_cast<int>(i)};
    n = as_inner(n)->kids[i];
    prefetch(n);
  }
  const uint32_t i = leaf_lower_bound(as_leaf(n), k);
  // Routing sends k to the leaf after every smaller key (5), so if nothing
  // here is >= k the answer is the first entry of the next leaf.
  if (i < n->n) {
    c.path_[c.depth_++] = {n, static_cast<int>(i)};
  } else {
    c.path_[c.depth_++] = {n, static_cast<int>(n->n) - 1};
    c.next();
  }
  return c;
}

// ---- frozen_tree -----------------------------------------------------------

frozen_tree::frozen_tree(const frozen_tree& o) {
  root_ = o.root_;
  digest_ = o.digest_;
  if (root_)
    add_ref(root_);
}

frozen_tree::frozen_tree(frozen_tree&& o) noexcept {
  root_ = o.root_;
  digest_ = std::exchange(o.digest_, {});
  o.root_ = nullptr;
}

frozen_tree& frozen_tree::operator=(frozen_tree o) noexcept {
  std::swap(root_, o.root_);
  std::swap(digest_, o.digest_);
  return *this;
}

frozen_tree::~frozen_tree() {
  if (root_)
    unref(root_);
}

void frozen_tree::release_paced(uint64_t step, const std::function<void()>& pause) {
  pacing p{step, pause};
  if (root_)
    unref_paced(std::exchange(root_, nullptr), p);
  digest_ = {};
}

// ---- order_tree ------------------------------------------------------------

order_tree::order_tree() : epoch_(0) {}

order_tree::order_tree(order_tree&& o) noexcept : epoch_(o.epoch_) {
  root_ = o.root_;
  digest_ = std::exchange(o.digest_, {});
  o.root_ = nullptr;
}

order_tree& order_tree::operator=(order_tree&& o) noexcept {
  if (this != &o) {
    clear();
    root_ = o.root_;
    digest_ = std::exchange(o.digest_, {});
    epoch_ = o.epoch_;
    o.root_ = nullptr;
  }
  return *this;
}

order_tree::~order_tree() {
  clear();
}

int64_t order_tree::live_nodes() {
  return live_node_count.load(std::memory_order_relaxed);
}

void order_tree::clear() {
  if (root_)
    unref(root_);
  root_ = nullptr;
  digest_ = {};
}

frozen_tree order_tree::freeze() {
  if (!root_)
    return frozen_tree(nullptr, digest_);
  add_ref(root_);
  // Every node now carries an older epoch (10), so the next write to any of
  // them goes through own(). A 32-bit epoch would only wrap onto a node still
  // shared after 2^32 freezes, far beyond any snapshot's life.
  ++epoch_;
  return frozen_tree(root_, digest_);
}

namespace {

// Takes ownership of the path from the root to k's leaf, adding `delta` to
// the entry counts on the way. path[0..h] are the owned nodes, path[h] the
// leaf; idx[l] is the child taken at path[l]. Returns h.
int own_path(const tree_node*& root, uint32_t epoch, const rank_key& k, int64_t delta,
             tree_node** path, uint32_t* idx) {
  const uint64_t d = static_cast<uint64_t>(delta); // wraps for -1 as intended
  tree_node* n = own(root, epoch);
  int h = 0;
  while (!n->leaf) {
    inner_node* in = as_inner(n);
    const uint32_t i = route(in, k);
    in->count += d;
    in->counts[i] += d;
    path[h] = in;
    idx[h] = i;
    ++h;
    prefetch(in->kids[i]);
    n = own(in->kids[i], epoch);
  }
  n->count += d;
  path[h] = n;
  return h;
}

} // namespace

void order_tree::insert(const rank_key& k, rec_ptr rec) {
  const entry_rec* r = rec.release_ownership();
  digest_.add(entry_digest(k, *r));
  if (!root_) {
    leaf_node* l = new_leaf(epoch_, 1); // grows as the root leaf fills (12)
    put_entry(l, 0, k, r);
    l->count = 1;
    root_ = l;
    return;
  }

  tree_node* path[max_height];
  uint32_t idx[max_height];
  const int h = own_path(root_, epoch_, k, +1, path, idx);

  leaf_node* leaf = as_leaf(path[h]);
  if (h == 0 && leaf->n == leaf->cap && leaf->cap < fanout) {
    // Only the root leaf has room for fewer than F (12): double it. The
    // live tree owns it (own_path), so nobody else sees the move.
    leaf_node* bigger = new_leaf(epoch_, std::min(fanout, 2 * leaf->cap));
    move_items(bigger, 0, leaf, 0, leaf->n);
    bigger->n = leaf->n;
    bigger->count = leaf->count;
    free_shell(leaf); // its records' references now live in `bigger`
    root_ = leaf = bigger;
  }
  const uint32_t pos = leaf_lower_bound(leaf, k);
  if (leaf->n < leaf->cap) {
    put_entry(leaf, pos, k, r);
    return;
  }
  tree_node* carry = split(leaf, epoch_);
  if (pos <= leaf->n)
    put_entry(leaf, pos, k, r);
  else
    put_entry(as_leaf(carry), pos - leaf->n, k, r);
  recount(leaf);
  recount(carry);

  // Hang each new right sibling into its parent, splitting upwards while
  // parents are full (2). Counts above the split are already right (6).
  for (int l = h - 1; l >= 0; --l) {
    inner_node* p = as_inner(path[l]);
    const uint32_t i = idx[l];
    p->counts[i] = p->kids[i]->count;
    if (p->n < fanout) {
      put_kid(p, i + 1, keys_of(carry)[0], carry);
      return;
    }
    tree_node* right = split(p, epoch_);
    if (i + 1 <= p->n)
      put_kid(p, i + 1, keys_of(carry)[0], carry);
    else
      put_kid(as_inner(right), i + 1 - p->n, keys_of(carry)[0], carry);
    recount(p);
    recount(right);
    carry = right;
  }

  inner_node* top = new_inner(epoch_);
  put_kid(top, 0, keys_of(root_)[0], root_);
  put_kid(top, 1, keys_of(carry)[0], carry);
  recount(top);
  root_ = top;
}

bool order_tree::erase(const rank_key& k) {
  // Checked first so that a miss copies nothing out of a snapshot.
  if (!contains(k))
    return false;

  tree_node* path[max_height];
  uint32_t idx[max_height];
  const int h = own_path(root_, epoch_, k, -1, path, idx);

  leaf_node* leaf = as_leaf(path[h]);
  const uint32_t pos = leaf_lower_bound(leaf, k);
  digest_.sub(entry_digest(k, *leaf->recs()[pos]));
  leaf->recs()[pos]->release();
  remove_item(leaf, pos);

  for (int l = h - 1; l >= 0 && path[l + 1]->n < min_fill; --l)
    rebalance(as_inner(path[l]), idx[l], epoch_);

  // (3) for the root: an empty tree has none, an inner root keeps two
  // children or gives way to its only one.
  tree_node* top = path[0];
  if (top->leaf) {
    if (top->n == 0) {
      free_shell(top);
      root_ = nullptr;
    }
  } else if (top->n == 1) {
    root_ = as_inner(top)->kids[0]; // the reference moves to root_
    free_shell(top);
  }
  return true;
}

} // namespace lb::ranking
