#include "actors/ranking/board_part.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <tuple>

namespace lb::ranking {

namespace {

using schemas::score_operator;

int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

int64_t saturating_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r))
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

bool same_meta(const std::optional<schemas::meta_value>& submitted, const entry_rec& stored) {
  // A submit without meta keeps the stored one.
  return !submitted || (stored.has_meta() && *stored.meta() == *submitted);
}

} // namespace

submit_effect board_part::submit(const schemas::submit_req& req, uint64_t seq) {
  auto order = config_.order;
  player_slot* found = players_.find(req.player);
  submit_effect out;
  if (found == nullptr) {
    // A new entry: `incr` and `decr` start from 0.
    int64_t score = req.score;
    if (config_.op == score_operator::incr)
      score = saturating_add(0, req.score);
    else if (config_.op == score_operator::decr)
      score = saturating_sub(0, req.score);
    out.key = make_key(score, req.subscore, seq, order);
    out.changed = true;
    rec_ptr rec{entry_rec::make(req.player, req.meta)};
    tree_.insert(out.key, rec);
    players_.insert(out.key, std::move(rec));
    return out;
  }
  auto& slot = *found;
  out.old_key = slot.key;
  int64_t old_score = unfold(slot.key.primary, order);
  int64_t score = req.score;
  switch (config_.op) {
    case score_operator::best:
      break;
    case score_operator::set:
      break;
    case score_operator::incr:
      score = saturating_add(old_score, req.score);
      break;
    case score_operator::decr:
      score = saturating_sub(old_score, req.score);
      break;
  }
  auto candidate = make_key(score, req.subscore, seq, order);
  bool value_changed = std::tie(candidate.primary, candidate.secondary)
                       != std::tie(slot.key.primary, slot.key.secondary);
  if (config_.op == score_operator::best) {
    // Only a strictly better value counts; the entry keeps the seq at which it
    // first reached its value, which is what breaks ties.
    value_changed = std::tie(candidate.primary, candidate.secondary)
                    < std::tie(slot.key.primary, slot.key.secondary);
  }
  bool meta_changed = !same_meta(req.meta, *slot.rec);
  if (!value_changed && !(meta_changed && config_.op != score_operator::best)) {
    out.key = slot.key;
    return out;
  }
  out.changed = true;
  out.key = value_changed ? candidate : slot.key;
  rec_ptr rec = slot.rec;
  if (meta_changed)
    rec = rec_ptr{entry_rec::make(req.player, req.meta)};
  tree_.erase(slot.key);
  tree_.insert(out.key, rec);
  slot.key = out.key;
  if (rec.get() != slot.rec.get())
    players_.replace_record(slot, std::move(rec));
  return out;
}

bool board_part::remove(std::string_view player) {
  auto* slot = players_.find(player);
  if (slot == nullptr)
    return false;
  tree_.erase(slot->key);
  players_.erase(player);
  return true;
}

uint64_t board_part::reset(uint64_t seq) {
  auto n = tree_.size();
  tree_.clear();
  players_.clear();
  reset_seq_ = seq;
  return n;
}

void board_part::configure(board_config c, int64_t at_ms) {
  const bool new_schedule = c.schedule && (!config_.schedule || *c.schedule != *config_.schedule);
  config_ = std::move(c);
  if (new_schedule)
    season_.anchor_ms = std::max(season_.start_ms, at_ms);
  closed_ = trimmed(closed_, config_.keep);
}

uint64_t board_part::rollover(const schemas::rollover_body& r, uint64_t seq) {
  season_part closing;
  closing.tree = tree_.freeze();
  closing.players = std::move(players_);
  players_ = player_index{};
  tree_.clear(); // the frozen tree holds every node now: this only lets go of the root
  const uint64_t moved = closing.tree.size();
  auto part = share_season_part(std::move(closing));
  closed_season closed;
  closed.span = schemas::season_span{r.season, season_.start_ms, r.end_ms, season_.start_seq, seq};
  closed.part = std::move(part);
  closed.config = config_;
  closed_ = with_season(closed_.get(), std::move(closed), config_.keep);
  season_ = season_clock{r.season + 1, r.start_ms, seq + 1, r.start_ms};
  reset_seq_ = seq; // for the merged view, the live part starts over as after a reset
  return moved;
}

void board_part::restore_seasons(const season_clock& clock, season_list_ptr closed) {
  season_ = clock;
  closed_ = std::move(closed);
}

std::string board_part::check_invariants() const {
  if (tree_.size() != players_.size())
    return "tree holds " + std::to_string(tree_.size()) + " entries, index "
           + std::to_string(players_.size());
  if (closed_ == nullptr)
    return {};
  if (!closed_->empty() && closed_->back().span.season >= season_.number)
    return "closed season " + std::to_string(closed_->back().span.season)
           + " is not before the current " + std::to_string(season_.number);
  return check_season_list(*closed_, config_.keep);
}

void board_part::restore(std::string_view player, const rank_key& key,
                         const std::optional<schemas::meta_value>& meta) {
  rec_ptr rec{entry_rec::make(player, meta)};
  tree_.insert(key, rec);
  players_.insert(key, std::move(rec));
}

const player_slot* board_part::find(std::string_view player) const {
  return players_.find(player);
}

void board_part::set_published_rank(std::string_view player, uint64_t rank) {
  if (auto* slot = players_.find(player))
    slot->published_rank = rank;
}

} // namespace lb::ranking
