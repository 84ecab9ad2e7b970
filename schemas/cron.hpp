// Cron expressions for scheduled board resets. UTC only: a reset time must
// mean the same instant on every node, whatever the host's time zone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lb::schemas {

// A reset schedule: a cron expression evaluated in UTC.
class cron_schedule {
public:
  // Parses 5 fields "min hour dom mon dow" or 6 fields "sec min hour dom mon dow"
  // (seconds FIRST when six are given). On error returns std::nullopt and sets
  // *why to a message that says which field and what is wrong, e.g.
  // "field 2 (hour): 25 is out of range 0-23" or "expected 5 or 6 fields, got 3".
  // Only the syntax is checked: a schedule that never fires ("0 0 30 2 *")
  // parses, and next_after reports it by returning std::nullopt.
  static std::optional<cron_schedule> parse(std::string_view text, std::string* why);
  // The first fire time strictly after `after_ms` (Unix epoch milliseconds, UTC),
  // in Unix epoch ms (always a whole second). std::nullopt if none within ~5 years
  // (e.g. "0 0 30 2 *").
  std::optional<int64_t> next_after(int64_t after_ms) const;
  const std::string& text() const { return text_; } // the expression as given (trimmed)
  bool has_seconds() const { return has_seconds_; }

private:
  cron_schedule() = default;

  std::string text_;
  bool has_seconds_ = false;
  // Bit i set: value i matches. dow folds 7 into 0, so only bits 0-6 are used.
  uint64_t sec_ = 0;
  uint64_t min_ = 0;
  uint64_t hour_ = 0;
  uint64_t dom_ = 0;
  uint64_t mon_ = 0;
  uint64_t dow_ = 0;
  // Vixie's rule keys on the field's text: a dom or dow starting with `*`
  // (including `*/n`) leaves the day to the other field alone.
  bool dom_star_ = false;
  bool dow_star_ = false;
};

// The check a log or snapshot record's schedule gets when it is read: empty
// when `text` is empty (no schedule) or a valid expression of at most
// max_cron_len bytes, else what is wrong. Syntax only: a replay never reads
// a clock.
std::string schedule_problem(std::string_view text);

// The maximum accepted length of an expression (reject longer with a message).
inline constexpr std::size_t max_cron_len = 128;

} // namespace lb::schemas
