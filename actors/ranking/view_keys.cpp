#include "actors/ranking/view_keys.hpp"

namespace lb::ranking {

std::string player_id(std::string_view board, std::string_view player) {
  std::string out;
  out.reserve(board.size() + 1 + player.size());
  out.append(board).push_back('\0');
  out.append(player);
  return out;
}

std::pair<std::string_view, std::string_view> split_player_id(std::string_view id) {
  auto nul = id.find('\0');
  return {id.substr(0, nul), id.substr(nul + 1)};
}

void view_keys::changing(std::string_view board, std::string_view player,
                         std::optional<rank_key> old) {
  // Only the first change in an interval records (2): that is the frozen
  // value.
  intervals_.back().before.try_emplace(player_id(board, player), old);
}

void view_keys::frozen(uint64_t seq) {
  interval next;
  next.since = seq;
  intervals_.push_back(std::move(next));
}

void view_keys::view_at(uint64_t seq, size_t spare, size_t spare_keys) {
  size_t older = 0; // intervals wholly before the cut: their changes are in the view
  while (older + 1 < intervals_.size() && intervals_[older + 1].since <= seq)
    ++older;
  size_t kept_keys = 0;
  for (size_t i = 0; i < older; ++i)
    kept_keys += intervals_[i].before.size();
  while (older > spare || (older > 0 && kept_keys > spare_keys)) {
    kept_keys -= intervals_.front().before.size();
    intervals_.pop_front();
    --older;
  }
}

std::optional<rank_key> view_keys::key_in_view(std::string_view board, std::string_view player,
                                               uint64_t view_seq,
                                               std::optional<rank_key> live) const {
  auto key = player_id(board, player);
  for (auto& iv : intervals_) {
    if (iv.since < view_seq)
      continue; // changes made before the view's cut are in it already
    auto i = iv.before.find(key);
    if (i != iv.before.end())
      return i->second;
  }
  return live;
}

} // namespace lb::ranking
