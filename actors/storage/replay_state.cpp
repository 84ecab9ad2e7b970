#include "actors/storage/replay_state.hpp"

#include <algorithm>
#include <memory>

#include "actors/ranking/rank_key.hpp"

namespace lb::storage {

namespace {

template <class Settings>
ranking::board_config config_of(const Settings& e) {
  ranking::board_config c{e.order, e.op, nullptr, e.keep};
  if (!e.schedule.empty())
    c.schedule = std::make_shared<const std::string>(e.schedule);
  return c;
}

// Each handler mirrors what actors/shard_actor.cpp does with the live event,
// so that a rebuilt board equals the one the service had.
struct event_applier {
  std::unordered_map<std::string, ranking::board_part>& boards;
  uint64_t& entries;
  uint64_t seq;
  int64_t time_ms;

  void operator()(const schemas::submit_req& e) const {
    if (e.existing_only) { // logged past --max-memory: it added nothing
      auto i = boards.find(e.board);
      if (i == boards.end() || i->second.find(e.player) == nullptr)
        return;
    }
    auto& part = boards.try_emplace(e.board).first->second;
    const uint64_t before = part.size();
    part.submit(e, seq);
    entries += part.size() - before;
  }
  void operator()(const schemas::remove_req& e) const {
    auto i = boards.find(e.board);
    if (i != boards.end() && i->second.remove(e.player))
      --entries;
  }
  void operator()(const schemas::reset_req& e) const {
    auto i = boards.find(e.board);
    if (i != boards.end())
      entries -= i->second.reset(seq);
  }
  void operator()(const schemas::configure_event_body& e) const {
    boards.try_emplace(e.board).first->second.configure(config_of(e), time_ms);
  }
  void operator()(const schemas::rollover_body& e) const {
    entries -= boards.try_emplace(e.board).first->second.rollover(e, seq);
  }
};

} // namespace

void replay_state::apply(const schemas::event_record& ev) {
  std::visit(event_applier{boards_, entries_, ev.seq, ev.time_ms}, ev.body);
}

void replay_state::restore_board(const schemas::snapshot_board& b) {
  auto& part = boards_.try_emplace(b.board).first->second;
  part.configure(config_of(b), 0);
  part.restore_seasons(
    ranking::season_clock{b.season, b.season_start_ms, b.season_start_seq, b.anchor_ms}, nullptr);
}

void replay_state::begin_season(const std::string& board, const schemas::snapshot_season& s) {
  // The settings it closed with (its order reads its keys), else the board's.
  auto config = boards_.at(board).config();
  config.order = s.order;
  config.op = s.op;
  season_.emplace(config);
  const auto& span = s.span;
  season_->restore_seasons(ranking::season_clock{span.season, span.start_ms, span.start_seq, 0},
                           nullptr);
  season_span_ = span;
}

void replay_state::restore_season_entry(const schemas::snapshot_entry& e) {
  season_->restore(e.player, ranking::make_key(e.score, e.subscore, e.seq, season_->config().order),
                   e.meta);
}

void replay_state::end_season(const std::string& board) {
  // The same O(1) move a live rollover makes (board_part::rollover).
  season_->rollover(schemas::rollover_body{board, season_span_.season, season_span_.end_ms, 0,
                                           false},
                    season_span_.end_seq);
  auto& owner = boards_.at(board);
  auto closed = season_->closed()->back();
  owner.restore_seasons(owner.season(),
                        ranking::with_season(owner.closed().get(), std::move(closed),
                                             owner.config().keep));
  season_.reset();
}

void replay_state::restore_entry(const std::string& board, const schemas::snapshot_entry& e) {
  auto& part = boards_.try_emplace(board).first->second;
  const auto order = part.config().order;
  part.restore(e.player, ranking::make_key(e.score, e.subscore, e.seq, order), e.meta);
  ++entries_;
}

ranking::global_view replay_state::freeze(uint64_t seq) {
  ranking::global_view view;
  view.seq = seq;
  view.made = std::chrono::steady_clock::now();
  std::vector<ranking::board_view_ptr> all;
  all.reserve(boards_.size());
  for (auto& [name, part] : boards_) {
    auto bv = std::make_shared<ranking::board_view>();
    bv->name = name;
    bv->config = part.config();
    bv->parts.push_back(part.freeze());
    bv->total = part.size();
    bv->season = part.season();
    bv->closed.push_back(part.closed());
    all.push_back(std::move(bv));
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a->name < b->name; });
  view.boards = view.boards.with(all);
  return view;
}

} // namespace lb::storage
