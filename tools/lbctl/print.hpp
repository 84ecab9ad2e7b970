// How lbctl shows each command's reply to a person (without --json).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <msgpack.hpp>

#include "tools/common/table.hpp"
#include "tools/lbctl/options.hpp"

namespace lb::lbctl {

// What a command's printer gets besides the reply.
struct call {
  const std::vector<std::string>& args;
  const options& opts;
  double round_trip_ms;
};

void print_submit(const msgpack::object& r, const call& c);
void print_rank(const msgpack::object& r, const call& c);
// top, around and ranks share one reply shape: a table of entries.
void print_entries(const msgpack::object& r, const call& c);
void print_ranks(const msgpack::object& r, const call& c);
void print_remove(const msgpack::object& r, const call& c);
void print_reset(const msgpack::object& r, const call& c);
void print_configure(const msgpack::object& r, const call& c);
void print_boards(const msgpack::object& r, const call& c);
// seasons: the kept closed seasons and the current one, as a table.
void print_seasons(const msgpack::object& r, const call& c);

// A percentile (the share of the board ranked below, 0..100) as people read
// it: at most 4 decimals, rounded down, so that only an exact 100 shows as 100.
std::string percentile_text(double p);
// Unix ms as a UTC ISO 8601 time, milliseconds shown only when not 0.
std::string utc_time(int64_t ms);

// A boards page's `next`: the name to pass as `after` for the next page, or
// nothing on the last page.
std::optional<std::string> next_board(const msgpack::object& r);

// `boards --all`: every page's boards, printed as one table at the end.
class boards_listing {
public:
  boards_listing();
  void add_page(const msgpack::object& r);
  void print() const;

private:
  tools::table table_;
  uint64_t count_ = 0;
};
void print_stats(const msgpack::object& r, const call& c);
void print_pong(const msgpack::object& r, const call& c);

} // namespace lb::lbctl
