// The boards' seasons as the gateway needs them (PROTOCOL.md "Seasons"):
// each board's current season number and, for a board with a reset
// schedule, when its season closes next. The gateway is the one place that
// makes events, so it alone reads the clock: at a boundary it orders a
// rollover event, which the log keeps with the boundary's time, and a replay
// applies it without looking at any clock.
//
// A board that is not here is in season 1 with no schedule and keeps the
// default number of seasons.
//
// Invariants:
// (1) `due_` holds (next_ms, board) exactly for the boards with a schedule
//     whose next boundary exists; next_ms is the first boundary after the
//     board's anchor.
// (2) season numbers only grow.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "schemas/cron.hpp"
#include "schemas/event_record.hpp"

namespace lb::actors {

// A board's seasons as recovery left them.
struct season_seed {
  std::string board;
  uint32_t season = 1;
  int64_t anchor_ms = 0;
  std::string schedule; // empty: none
  uint32_t keep = schemas::default_keep_seasons;
};

class season_schedules {
public:
  void load(const std::vector<season_seed>& seeds);

  // A configure ordered at `at_ms` left the board with this schedule (empty:
  // none) and keep. A new schedule counts from then.
  void configured(const std::string& board, const std::string& schedule, uint32_t keep,
                  int64_t at_ms);
  // The board's season closes by hand (`reset` with archive) at `now_ms`.
  schemas::rollover_body close_now(const std::string& board, int64_t now_ms);
  // Rollovers due at `now_ms`, one per board, oldest boundary first. A board
  // that missed several boundaries (the service was down) rolls over once:
  // its season ends at the first missed one and the next starts at the last
  // one not after now.
  std::vector<schemas::rollover_body> due(int64_t now_ms);
  // The log refused the rollover: the season stays open, and a scheduled
  // one is due again at once.
  void refused(const schemas::rollover_body& r);

  uint32_t season(const std::string& board) const;
  const std::string& schedule(const std::string& board) const;
  uint32_t keep(const std::string& board) const;
  // When the board's schedule closes its season next (nothing: no schedule).
  std::optional<int64_t> next_ms(const std::string& board) const;
  // The earliest boundary of any board.
  std::optional<int64_t> earliest() const;

private:
  struct board_state {
    uint32_t season = 1;
    int64_t anchor_ms = 0;
    std::optional<schemas::cron_schedule> cron;
    uint32_t keep = schemas::default_keep_seasons;
    std::optional<int64_t> next_ms;
  };
  void plan(const std::string& board, board_state& b); // (1)

  std::unordered_map<std::string, board_state> boards_;
  std::set<std::pair<int64_t, std::string>> due_;
};

} // namespace lb::actors
