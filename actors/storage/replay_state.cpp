#include "actors/storage/replay_state.hpp"

#include <algorithm>
#include <memory>

#include "actors/ranking/rank_key.hpp"

namespace lb::storage {

namespace {

// Each handler mirrors what actors/shard_actor.cpp does with the live event,
// so that a rebuilt board equals the one the service had.
struct event_applier {
  std::unordered_map<std::string, ranking::board_part>& boards;
  uint64_t& entries;
  uint64_t seq;

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
    boards.try_emplace(e.board).first->second.configure(ranking::board_config{e.order, e.op});
  }
  // Placeholder so that the codec branch builds (issue 15): the live board
  // empties as on a reset; the closed season is not kept yet.
  void operator()(const schemas::rollover_body& e) const {
    auto i = boards.find(e.board);
    if (i != boards.end())
      entries -= i->second.reset(seq);
  }
};

} // namespace

void replay_state::apply(const schemas::event_record& ev) {
  std::visit(event_applier{boards_, entries_, ev.seq}, ev.body);
}

void replay_state::restore_board(const schemas::snapshot_board& b) {
  boards_.try_emplace(b.board).first->second.configure(ranking::board_config{b.order, b.op});
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
    all.push_back(std::move(bv));
  }
  std::sort(all.begin(), all.end(), [](auto& a, auto& b) { return a->name < b->name; });
  view.boards = view.boards.with(all);
  return view;
}

} // namespace lb::storage
