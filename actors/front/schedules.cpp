#include "actors/front/schedules.hpp"

namespace lb::actors {

namespace {

// How far a restart after a long outage looks for the last boundary before
// now; past it the new season starts at now (a seconds schedule over months).
constexpr int max_missed_steps = 100000;

const std::string no_schedule;

} // namespace

void season_schedules::load(const std::vector<season_seed>& seeds) {
  for (const auto& s : seeds) {
    auto& b = boards_[s.board];
    b.season = s.season;
    b.anchor_ms = s.anchor_ms;
    b.keep = s.keep;
    std::string why;
    // The decoder checked it when it was configured: only a log edited by
    // hand could hold a bad one, and then the board just has no schedule.
    b.cron = s.schedule.empty() ? std::nullopt : schemas::cron_schedule::parse(s.schedule, &why);
    plan(s.board, b);
  }
}

void season_schedules::plan(const std::string& board, board_state& b) {
  if (b.next_ms)
    due_.erase({*b.next_ms, board});
  b.next_ms = b.cron ? b.cron->next_after(b.anchor_ms) : std::nullopt;
  if (b.next_ms)
    due_.insert({*b.next_ms, board});
}

void season_schedules::configured(const std::string& board, const std::string& schedule,
                                  uint32_t keep, int64_t at_ms) {
  auto& b = boards_[board];
  b.keep = keep;
  const std::string& old = b.cron ? b.cron->text() : no_schedule;
  if (schedule == old)
    return;
  std::string why;
  b.cron = schedule.empty() ? std::nullopt : schemas::cron_schedule::parse(schedule, &why);
  b.anchor_ms = std::max(b.anchor_ms, at_ms);
  plan(board, b);
}

schemas::rollover_body season_schedules::close_now(const std::string& board, int64_t now_ms) {
  auto& b = boards_[board];
  schemas::rollover_body r{board, b.season, now_ms, now_ms, false};
  ++b.season;
  b.anchor_ms = now_ms;
  plan(board, b);
  return r;
}

std::vector<schemas::rollover_body> season_schedules::due(int64_t now_ms) {
  std::vector<schemas::rollover_body> out;
  while (!due_.empty() && due_.begin()->first <= now_ms) {
    auto board = due_.begin()->second;
    auto& b = boards_.at(board);
    const int64_t end = *b.next_ms;
    int64_t start = end;
    for (int i = 0;; ++i) {
      auto n = b.cron->next_after(start);
      if (!n || *n > now_ms)
        break;
      if (i == max_missed_steps) {
        start = now_ms;
        break;
      }
      start = *n;
    }
    out.push_back(schemas::rollover_body{board, b.season, end, start, true});
    ++b.season;
    b.anchor_ms = start;
    plan(board, b);
  }
  return out;
}

void season_schedules::refused(const schemas::rollover_body& r) {
  auto& b = boards_[r.board];
  b.season = r.season;
  if (r.scheduled) {
    b.anchor_ms = r.end_ms - 1; // so the boundary it missed is the next one
    plan(r.board, b);
  }
}

uint32_t season_schedules::season(const std::string& board) const {
  auto i = boards_.find(board);
  return i == boards_.end() ? 1 : i->second.season;
}

const std::string& season_schedules::schedule(const std::string& board) const {
  auto i = boards_.find(board);
  return i == boards_.end() || !i->second.cron ? no_schedule : i->second.cron->text();
}

uint32_t season_schedules::keep(const std::string& board) const {
  auto i = boards_.find(board);
  return i == boards_.end() ? schemas::default_keep_seasons : i->second.keep;
}

std::optional<int64_t> season_schedules::next_ms(const std::string& board) const {
  auto i = boards_.find(board);
  return i == boards_.end() ? std::nullopt : i->second.next_ms;
}

std::optional<int64_t> season_schedules::earliest() const {
  if (due_.empty())
    return std::nullopt;
  return due_.begin()->first;
}

} // namespace lb::actors
