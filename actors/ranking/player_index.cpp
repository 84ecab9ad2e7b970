#include "actors/ranking/player_index.hpp"

#include <unordered_set>

#include <absl/hash/hash.h>

namespace lb::ranking {

player_index::player_index()
  : slab_(std::make_unique<slab>()), set_(0, hash{slab_.get()}, equal{slab_.get()}) {}

uint32_t player_index::slab::capacity() const {
  const auto n = static_cast<uint32_t>(chunks.size());
  const uint32_t small_chunks = __builtin_ctz(big_chunk); // sizes 1 .. big_chunk / 2
  if (n <= small_chunks)
    return (uint32_t{1} << n) - 1;
  return small_slots + (n - small_chunks) * big_chunk;
}

void player_index::slab::grow() {
  const uint32_t base = capacity();
  const auto n = static_cast<uint32_t>(chunks.size());
  const uint32_t size = n < __builtin_ctz(big_chunk) ? uint32_t{1} << n : big_chunk;
  chunks.push_back(std::make_unique<player_slot[]>(size));
  // Last first, so that the lowest slot is used first.
  for (uint32_t i = base + size; i-- > base;)
    free.push_back(i);
}

size_t player_index::hash::operator()(std::string_view name) const {
  return absl::Hash<std::string_view>{}(name);
}

player_slot* player_index::find(std::string_view name) {
  auto i = set_.find(name);
  return i == set_.end() ? nullptr : &slot(*i);
}

const player_slot* player_index::find(std::string_view name) const {
  auto i = set_.find(name);
  return i == set_.end() ? nullptr : &slot(*i);
}

player_slot& player_index::insert(const rank_key& key, rec_ptr rec) {
  auto& s = *slab_;
  if (s.free.empty())
    s.grow();
  const uint32_t i = s.free.back();
  s.free.pop_back();
  auto& out = slot(i);
  out.key = key;
  out.rec = std::move(rec);
  out.published_rank = 0;
  set_.insert(i);
  return out;
}

bool player_index::erase(std::string_view name) {
  auto i = set_.find(name);
  if (i == set_.end())
    return false;
  const uint32_t n = *i;
  set_.erase(i); // hashes through the slot: before the record goes
  slot(n) = player_slot{};
  slab_->free.push_back(n);
  return true;
}

void player_index::release_paced(uint64_t step, const std::function<void()>& pause) {
  uint64_t released = 0;
  // Records go first, set and slab after: the set hashes through the records.
  for (uint32_t i : set_) {
    slot(i).rec = rec_ptr{};
    if (++released % step == 0)
      pause();
  }
  set_.clear();
  slab_->chunks.clear();
  slab_->free.clear();
}

void player_index::clear() {
  set_.clear();
  slab_->chunks.clear();
  slab_->free.clear();
}

std::string player_index::check_invariants() const {
  size_t used = 0;
  std::unordered_set<std::string_view> names;
  std::vector<bool> listed(slab_->capacity());
  for (uint32_t i : set_) {
    if (i >= listed.size() || !slot(i).rec)
      return "invariant (1) broken: the set holds slot " + std::to_string(i) + ", not in use";
    if (listed[i])
      return "invariant (1) broken: slot " + std::to_string(i) + " is in the set twice";
    listed[i] = true;
    if (!names.insert(slot(i).rec->name()).second)
      return "invariant (2) broken: two slots hold '" + std::string(slot(i).rec->name()) + "'";
  }
  for (uint32_t i = 0; i < listed.size(); ++i)
    used += slot(i).rec ? 1 : 0;
  if (used != set_.size())
    return "invariant (1) broken: " + std::to_string(used) + " slots in use, "
           + std::to_string(set_.size()) + " in the set";
  if (slab_->free.size() + used != listed.size())
    return "invariant (3) broken: " + std::to_string(slab_->free.size()) + " free slots listed, "
           + std::to_string(listed.size() - used) + " free";
  return {};
}

} // namespace lb::ranking
