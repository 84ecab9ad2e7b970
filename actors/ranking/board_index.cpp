#include "actors/ranking/board_index.hpp"

#include <algorithm>
#include <iterator>

#include "actors/ranking/digest.hpp"

namespace lb::ranking {

namespace {

bool name_less(const board_view_ptr& a, std::string_view b) {
  return a->name < b;
}

} // namespace

board_index::iterator board_index::lower_bound(std::string_view name) const {
  // The first chunk whose last name is not below `name` holds the answer (1).
  auto c = std::partition_point(chunks_.begin(), chunks_.end(), [&](const chunk_ptr& ch) {
    return ch->boards.back()->name < name;
  });
  if (c == chunks_.end())
    return end();
  auto& v = (*c)->boards;
  auto i = std::lower_bound(v.begin(), v.end(), name, name_less);
  return {&chunks_, static_cast<size_t>(c - chunks_.begin()), static_cast<size_t>(i - v.begin())};
}

board_index::iterator board_index::upper_bound(std::string_view name) const {
  auto i = lower_bound(name);
  if (i != end() && (*i)->name == name)
    ++i;
  return i;
}

const board_view* board_index::find(std::string_view name) const {
  auto i = lower_bound(name);
  return i != end() && (*i)->name == name ? i->get() : nullptr;
}

board_index board_index::with(const std::vector<board_view_ptr>& changed) const {
  board_index out;
  out.size_ = size_;
  out.entries_ = entries_;
  out.digest_ = digest_;
  out.chunks_.reserve(chunks_.size() + changed.size() / (chunk_max / 2) + 1);
  auto next = changed.begin();
  // Puts the changed boards below `limit` (all that remain when null) into
  // `boards`, replacing equal names; counts the new ones.
  auto merge_into = [&](std::vector<board_view_ptr>& boards, const std::string* limit) {
    auto stop = limit == nullptr
                  ? changed.end()
                  : std::partition_point(next, changed.end(),
                                         [&](const board_view_ptr& b) { return b->name < *limit; });
    for (; next != stop; ++next) {
      auto at = std::lower_bound(boards.begin(), boards.end(), (*next)->name, name_less);
      if (at != boards.end() && (*at)->name == (*next)->name) {
        out.entries_ -= (*at)->total;
        out.digest_.sub(board_digest(**at));
        *at = *next;
      } else {
        boards.insert(at, *next);
        ++out.size_;
      }
      out.entries_ += (*next)->total;
      out.digest_.add(board_digest(**next));
    }
  };
  // Appends `boards` as chunks of at most chunk_max, split evenly.
  auto emit = [&](std::vector<board_view_ptr> boards) {
    const size_t parts = (boards.size() + chunk_max - 1) / chunk_max;
    if (parts <= 1) {
      out.chunks_.push_back(std::make_shared<const chunk>(chunk{std::move(boards)}));
      return;
    }
    for (size_t p = 0; p < parts; ++p) {
      auto from = boards.begin() + static_cast<std::ptrdiff_t>(boards.size() * p / parts);
      auto to = boards.begin() + static_cast<std::ptrdiff_t>(boards.size() * (p + 1) / parts);
      out.chunks_.push_back(std::make_shared<const chunk>(chunk{
        std::vector<board_view_ptr>(std::make_move_iterator(from), std::make_move_iterator(to))}));
    }
  };
  for (size_t c = 0; c < chunks_.size(); ++c) {
    // Chunk c takes the changed names below the next chunk's first name:
    // new names between two chunks join the one before (the first chunk
    // takes those below it too).
    const std::string* limit = c + 1 < chunks_.size() ? &chunks_[c + 1]->boards.front()->name
                                                      : nullptr;
    if (next == changed.end() || (limit != nullptr && !((*next)->name < *limit))) {
      out.chunks_.push_back(chunks_[c]); // untouched: shared (3)
      continue;
    }
    auto boards = chunks_[c]->boards;
    merge_into(boards, limit);
    emit(std::move(boards));
  }
  if (chunks_.empty() && next != changed.end()) {
    std::vector<board_view_ptr> boards;
    merge_into(boards, nullptr);
    emit(std::move(boards));
  }
  return out;
}

std::string board_index::check_invariants() const {
  size_t n = 0;
  uint64_t entries = 0;
  content_digest digest;
  const std::string* last = nullptr;
  for (size_t c = 0; c < chunks_.size(); ++c) {
    auto& v = chunks_[c]->boards;
    if (v.empty() || v.size() > chunk_max)
      return "chunk " + std::to_string(c) + " holds " + std::to_string(v.size()) + " boards";
    for (auto& b : v) {
      if (last != nullptr && !(*last < b->name))
        return "board '" + b->name + "' follows '" + *last + "'";
      last = &b->name;
      entries += b->total;
      digest.add(board_digest(*b));
    }
    n += v.size();
  }
  if (n != size_)
    return "size() is " + std::to_string(size_) + " but the chunks hold " + std::to_string(n);
  if (entries != entries_)
    return "entries() is " + std::to_string(entries_) + " but the boards hold "
           + std::to_string(entries);
  if (digest != digest_)
    return "digest() is " + digest_.hex() + " but the boards' terms sum to " + digest.hex();
  return {};
}

} // namespace lb::ranking
