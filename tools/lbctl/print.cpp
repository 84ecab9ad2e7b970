#include "tools/lbctl/print.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <sstream>

#include "tools/common/msgpack_map.hpp"
#include "tools/common/table.hpp"
#include "tools/common/term_text.hpp"
#include "tools/lbctl/reply.hpp"

namespace lb::lbctl {

using tools::count;
using tools::find_key;
using tools::printable;
using tools::table;

std::string percentile_text(double p) {
  if (!std::isfinite(p))
    return "?";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.4f", std::floor(p * 10000) / 10000);
  std::string s = buf;
  while (s.back() == '0')
    s.pop_back();
  if (s.back() == '.')
    s.pop_back();
  return s;
}

std::string utc_time(int64_t ms) {
  // Floor division, so that times before 1970 still print a valid stamp.
  int64_t secs = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr)
    return std::to_string(ms) + " ms";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(frac));
    out += buf;
  }
  return out + "Z";
}

namespace {

// The reply's `percentile`, when it has one (an older service does not).
std::optional<std::string> percentile_of(const msgpack::object& r) {
  const auto* p = find_key(r, "percentile");
  if (p == nullptr)
    return std::nullopt;
  switch (p->type) {
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64:
      return percentile_text(p->via.f64);
    case msgpack::type::POSITIVE_INTEGER:
      return percentile_text(static_cast<double>(p->via.u64));
    default:
      throw bad_reply("'percentile' has the wrong type");
  }
}

// An optional uint key (a newer service's), nothing when absent or nil.
std::optional<uint64_t> opt_u64(const msgpack::object& r, std::string_view key) {
  const auto* v = find_key(r, key);
  if (v == nullptr || v->is_nil())
    return std::nullopt;
  if (v->type != msgpack::type::POSITIVE_INTEGER)
    throw bad_reply("'" + std::string(key) + "' has the wrong type");
  return v->via.u64;
}

// A schedule as shown: quoted, or "no schedule" for nil.
std::string schedule_text(const msgpack::object* v) {
  if (v == nullptr || v->is_nil())
    return "no schedule";
  if (v->type != msgpack::type::STR)
    throw bad_reply("'schedule' has the wrong type");
  return "schedule '" + text(*v) + "'";
}

} // namespace

void print_submit(const msgpack::object& r, const call&) {
  std::cout << text_at(r, "player") << " on " << text_at(r, "board") << ": score "
            << get<int64_t>(r, "score");
  if (auto sub = get<int64_t>(r, "subscore"); sub != 0)
    std::cout << " (subscore " << sub << ")";
  const bool changed = get<bool>(r, "changed");
  if (!changed)
    std::cout << " (unchanged)";
  std::cout << ", rank " << get<uint64_t>(r, "rank") << " of " << get<uint64_t>(r, "total");
  const auto* prev = find_key(r, "prev_rank");
  if (prev == nullptr || prev->is_nil())
    std::cout << " (new)";
  else if (changed)
    std::cout << " (was " << text(*prev) << ")";
  if (auto p = percentile_of(r))
    std::cout << ", percentile " << *p;
  std::cout << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

void print_rank(const msgpack::object& r, const call&) {
  std::cout << "board: " << text_at(r, "board") << '\n';
  if (auto season = opt_u64(r, "season"))
    std::cout << "season: " << *season << " (closed: its final standings)\n";
  std::cout << "player: " << text_at(r, "player") << '\n'
            << "rank: " << get<uint64_t>(r, "rank") << " of " << get<uint64_t>(r, "total") << '\n';
  if (auto p = percentile_of(r))
    std::cout << "percentile: " << *p << " (share of the board ranked below)\n";
  std::cout << "score: " << get<int64_t>(r, "score") << '\n'
            << "subscore: " << get<int64_t>(r, "subscore") << '\n';
  if (const auto* meta = find_key(r, "meta"); meta != nullptr && !meta->is_nil())
    std::cout << "meta: " << text(*meta) << '\n';
  std::cout << "as of seq: " << get<uint64_t>(r, "seq") << '\n';
}

void print_entries(const msgpack::object& r, const call&) {
  const auto& entries = get_array(r, "entries");
  std::cout << text_at(r, "board");
  if (auto season = opt_u64(r, "season"))
    std::cout << ", season " << *season << " (closed, as of seq " << get<uint64_t>(r, "seq") << ")";
  std::cout << ": " << count(get<uint64_t>(r, "total"), "entry", "entries") << '\n';
  if (entries.via.array.size == 0) {
    std::cout << "(none in this range)\n";
    return;
  }
  table t({"RANK", "PLAYER", "SCORE", "SUBSCORE", "META"}, {true, false, true, true, false});
  for (uint32_t i = 0; i < entries.via.array.size; ++i) {
    const auto& e = entries.via.array.ptr[i];
    if (e.type != msgpack::type::MAP)
      throw bad_reply("an entry is not a map");
    t.add({std::to_string(get<uint64_t>(e, "rank")), text_at(e, "player"),
           std::to_string(get<int64_t>(e, "score")), std::to_string(get<int64_t>(e, "subscore")),
           text_at(e, "meta")});
  }
  std::cout << t.render();
  // top: where the next page starts (nil: this page reached the end).
  if (const auto* next = find_key(r, "next"); next != nullptr && !next->is_nil())
    std::cout << "next page: --after=" << text(*next) << '\n';
}

// The service leaves out players not on the board; say which, so that a
// typo in a name does not go unnoticed.
void print_ranks(const msgpack::object& r, const call& c) {
  print_entries(r, c);
  const auto& entries = get_array(r, "entries");
  std::string missing;
  for (auto player = c.args.begin() + 1; player != c.args.end(); ++player) {
    bool found = false;
    for (uint32_t i = 0; i < entries.via.array.size && !found; ++i)
      found = get<std::string>(entries.via.array.ptr[i], "player") == *player;
    if (!found)
      missing += (missing.empty() ? "" : ", ") + printable(*player);
  }
  if (!missing.empty())
    std::cout << "not on " << printable(c.args[0]) << ": " << missing << '\n';
}

void print_remove(const msgpack::object& r, const call& c) {
  // A remove that found nothing fails before printing (commands.cpp).
  std::cout << "removed " << printable(c.args[1]) << " from " << printable(c.args[0]) << ", seq "
            << get<uint64_t>(r, "seq") << '\n';
}

void print_reset(const msgpack::object& r, const call& c) {
  const auto removed = count(get<uint64_t>(r, "removed"), "entry", "entries");
  std::cout << "reset " << printable(c.args[0]) << ": ";
  if (auto season = opt_u64(r, "season"))
    std::cout << "season " << *season << " closed and kept (" << removed << "), season "
              << *season + 1 << " started";
  else
    std::cout << removed << " removed";
  std::cout << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

void print_configure(const msgpack::object& r, const call&) {
  std::cout << text_at(r, "board") << ": order " << text_at(r, "order") << ", operator "
            << text_at(r, "operator");
  if (const auto* keep = find_key(r, "keep"))
    std::cout << ", " << schedule_text(find_key(r, "schedule")) << ", keep " << text(*keep);
  std::cout << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

void print_seasons(const msgpack::object& r, const call&) {
  const auto board = text_at(r, "board");
  const auto current = get<uint64_t>(r, "current");
  const auto keep = get<uint64_t>(r, "keep");
  std::cout << board << ": season " << current << " is current; "
            << schedule_text(find_key(r, "schedule"));
  if (const auto* sched = find_key(r, "schedule"); sched != nullptr && !sched->is_nil()) {
    std::cout << " (UTC), next rollover ";
    const auto* next = find_key(r, "next_ms");
    if (next == nullptr || next->is_nil())
      std::cout << "none";
    else
      std::cout << utc_time(get<int64_t>(r, "next_ms"));
  }
  std::cout << "; keeps " << count(keep, "closed season", "closed seasons") << '\n';
  const auto& seasons = get_array(r, "seasons");
  table t({"SEASON", "START", "END", "START_SEQ", "END_SEQ", "ENTRIES", ""},
          {true, false, false, true, true, true, false});
  // nil: not known (a start), not yet (the current season's end).
  auto time_at = [](const msgpack::object& s, std::string_view key) -> std::string {
    const auto* v = find_key(s, key);
    if (v == nullptr || v->is_nil())
      return "-";
    return utc_time(get<int64_t>(s, key));
  };
  auto seq_at = [](const msgpack::object& s, std::string_view key) -> std::string {
    const auto* v = find_key(s, key);
    if (v == nullptr || v->is_nil())
      return "-";
    return std::to_string(get<uint64_t>(s, key));
  };
  for (uint32_t i = 0; i < seasons.via.array.size; ++i) {
    const auto& s = seasons.via.array.ptr[i];
    if (s.type != msgpack::type::MAP)
      throw bad_reply("a season is not a map");
    t.add({std::to_string(get<uint64_t>(s, "season")), time_at(s, "start_ms"), time_at(s, "end_ms"),
           seq_at(s, "start_seq"), seq_at(s, "end_seq"), std::to_string(get<uint64_t>(s, "total")),
           get<bool>(s, "current") ? "<- current" : ""});
  }
  std::cout << t.render() << "as of seq " << get<uint64_t>(r, "seq") << '\n';
}

namespace {

table boards_table() {
  return table({"BOARD", "ENTRIES", "ORDER", "OPERATOR", "SEASON", "KEEP", "SCHEDULE"},
               {false, true, false, false, true, true, false});
}

// A board's season settings, "" each from a service without seasons.
std::string optional_text(const msgpack::object& b, std::string_view key) {
  const auto* v = find_key(b, key);
  return v == nullptr || v->is_nil() ? std::string() : text(*v);
}

// Adds the page's boards to `t`; returns how many.
uint32_t add_boards(const msgpack::object& r, table& t) {
  const auto& boards = get_array(r, "boards");
  for (uint32_t i = 0; i < boards.via.array.size; ++i) {
    const auto& b = boards.via.array.ptr[i];
    if (b.type != msgpack::type::MAP)
      throw bad_reply("a board is not a map");
    t.add({text_at(b, "board"), std::to_string(get<uint64_t>(b, "total")), text_at(b, "order"),
           text_at(b, "operator"), optional_text(b, "season"), optional_text(b, "keep"),
           optional_text(b, "schedule")});
  }
  return boards.via.array.size;
}

} // namespace

std::optional<std::string> next_board(const msgpack::object& r) {
  const auto* next = find_key(r, "next");
  if (next == nullptr || next->is_nil())
    return std::nullopt;
  if (next->type != msgpack::type::STR)
    throw bad_reply("'next' has the wrong type");
  return std::string(next->via.str.ptr, next->via.str.size);
}

void print_boards(const msgpack::object& r, const call& c) {
  table t = boards_table();
  if (add_boards(r, t) == 0)
    std::cout << (c.opts.after ? "no boards after " + printable(*c.opts.after) : "no boards yet")
              << '\n';
  else
    std::cout << t.render();
  // `total` comes with merged-view pages only.
  const auto* total = find_key(r, "total");
  const bool counted = total != nullptr && total->type == msgpack::type::POSITIVE_INTEGER;
  if (auto next = next_board(r))
    std::cout << "more boards follow"
              << (counted ? " (" + count(total->via.u64, "board", "boards") + " in all)" : "")
              << ": next page: --after=" << printable(*next) << " (or --all for every page)\n";
}

boards_listing::boards_listing() : table_(boards_table()) {}

void boards_listing::add_page(const msgpack::object& r) {
  count_ += add_boards(r, table_);
}

void boards_listing::print() const {
  if (count_ == 0) {
    std::cout << "no boards\n";
    return;
  }
  std::cout << table_.render() << count(count_, "board", "boards") << '\n';
}

namespace {

// `ingest_sources`: source -> {frames, accepted, rejected}, one row each.
void print_sources(const msgpack::object& sources) {
  if (sources.type != msgpack::type::MAP)
    throw bad_reply("'ingest_sources' is not a map");
  if (sources.via.map.size == 0) {
    std::cout << "ingest_sources: none (no ingest frame named its source)\n";
    return;
  }
  table t({"SOURCE", "FRAMES", "ACCEPTED", "REJECTED"}, {false, true, true, true});
  for (uint32_t i = 0; i < sources.via.map.size; ++i) {
    const auto& kv = sources.via.map.ptr[i];
    if (kv.val.type != msgpack::type::MAP)
      throw bad_reply("an ingest source is not a map");
    t.add({text(kv.key), std::to_string(get<uint64_t>(kv.val, "frames")),
           std::to_string(get<uint64_t>(kv.val, "accepted")),
           std::to_string(get<uint64_t>(kv.val, "rejected"))});
  }
  std::cout << "ingest_sources:\n" << t.render("  ");
}

} // namespace

// The protocol lets stats grow ("whatever else helps an operator"), so keys
// beyond merge, shards and ingest_sources are shown as they come.
void print_stats(const msgpack::object& r, const call&) {
  for (uint32_t i = 0; i < r.via.map.size; ++i) {
    const auto& kv = r.via.map.ptr[i];
    const auto key = text(kv.key);
    if (key == "ingest_sources")
      print_sources(kv.val);
    else if (key != "ok" && key != "id" && key != "merge" && key != "shards")
      std::cout << key << ": " << text(kv.val) << '\n';
  }
  const auto& merge = get_map(r, "merge");
  std::cout << "merge: every " << get<uint64_t>(merge, "interval_ms") << " ms, last at seq "
            << get<uint64_t>(merge, "last_merge_seq") << ", " << get<uint64_t>(merge, "age_ms")
            << " ms ago\n";
  const auto& shards = get_array(r, "shards");
  table t({"SHARD", "ENTRIES", "MAILBOX"}, {true, true, true});
  for (uint32_t i = 0; i < shards.via.array.size; ++i) {
    const auto& s = shards.via.array.ptr[i];
    if (s.type != msgpack::type::MAP)
      throw bad_reply("a shard is not a map");
    t.add({std::to_string(get<uint64_t>(s, "shard")), std::to_string(get<uint64_t>(s, "entries")),
           std::to_string(get<uint64_t>(s, "mailbox"))});
  }
  std::cout << t.render();
}

void print_pong(const msgpack::object&, const call& c) {
  std::ostringstream ms;
  ms.precision(2);
  ms << std::fixed << c.round_trip_ms;
  std::cout << "pong from " << c.opts.endpoint << " in " << ms.str() << " ms\n";
}

} // namespace lb::lbctl
