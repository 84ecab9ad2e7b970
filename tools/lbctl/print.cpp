#include "tools/lbctl/print.hpp"

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
  std::cout << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

void print_rank(const msgpack::object& r, const call&) {
  std::cout << "board: " << text_at(r, "board") << '\n'
            << "player: " << text_at(r, "player") << '\n'
            << "rank: " << get<uint64_t>(r, "rank") << " of " << get<uint64_t>(r, "total") << '\n'
            << "score: " << get<int64_t>(r, "score") << '\n'
            << "subscore: " << get<int64_t>(r, "subscore") << '\n';
  if (const auto* meta = find_key(r, "meta"); meta != nullptr && !meta->is_nil())
    std::cout << "meta: " << text(*meta) << '\n';
  std::cout << "as of seq: " << get<uint64_t>(r, "seq") << '\n';
}

void print_entries(const msgpack::object& r, const call&) {
  const auto& entries = get_array(r, "entries");
  std::cout << text_at(r, "board") << ": " << count(get<uint64_t>(r, "total"), "entry", "entries")
            << '\n';
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
  std::cout << "reset " << printable(c.args[0]) << ": "
            << count(get<uint64_t>(r, "removed"), "entry", "entries") << " removed, seq "
            << get<uint64_t>(r, "seq") << '\n';
}

void print_configure(const msgpack::object& r, const call&) {
  std::cout << text_at(r, "board") << ": order " << text_at(r, "order") << ", operator "
            << text_at(r, "operator") << ", seq " << get<uint64_t>(r, "seq") << '\n';
}

namespace {

table boards_table() {
  return table({"BOARD", "ENTRIES", "ORDER", "OPERATOR"}, {false, true, false, false});
}

// Adds the page's boards to `t`; returns how many.
uint32_t add_boards(const msgpack::object& r, table& t) {
  const auto& boards = get_array(r, "boards");
  for (uint32_t i = 0; i < boards.via.array.size; ++i) {
    const auto& b = boards.via.array.ptr[i];
    if (b.type != msgpack::type::MAP)
      throw bad_reply("a board is not a map");
    t.add({text_at(b, "board"), std::to_string(get<uint64_t>(b, "total")), text_at(b, "order"),
           text_at(b, "operator")});
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
