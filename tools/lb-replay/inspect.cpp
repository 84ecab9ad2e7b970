// lb-replay inspect: what a log holds and whether every record of it reads
// back. Each file is scanned to its end even past damage (scan_file with
// on_damage::skip), so that one run lists every damaged stretch, not only
// the first.
#include <algorithm>
#include <iostream>
#include <map>
#include <optional>
#include <variant>

#include "actors/storage/log_reader.hpp"
#include "schemas/overload.hpp"
#include "schemas/snapshot_record.hpp"
#include "tools/lb-replay/common.hpp"
#include "tools/lb-replay/text.hpp"

namespace lb::replay {

namespace {

using storage::damage_kind;
using storage::file_kind;

const char* kind_name(damage_kind k) {
  switch (k) {
    case damage_kind::none:
      return "none";
    case damage_kind::empty_file:
      return "empty_file";
    case damage_kind::bad_header:
      return "bad_header";
    case damage_kind::newer_version:
      return "newer_version";
    case damage_kind::torn_tail:
      return "torn_tail";
    case damage_kind::corrupt:
      return "corrupt";
  }
  return "unknown";
}

constexpr const char* type_names[] = {"submit", "remove", "reset", "configure", "rollover"};
constexpr int type_count = 5;
static_assert(std::variant_size_v<schemas::event_body> == type_count);

// A season closed (PROTOCOL.md "Seasons"), as the log holds it.
struct rollover_seen {
  uint64_t seq = 0;
  schemas::rollover_body body;
};

struct damage {
  uint64_t offset = 0;
  std::string kind;
  std::string message;
};

struct event_stats {
  uint64_t records = 0;
  uint64_t by_type[type_count] = {};
  std::vector<rollover_seen> rollovers; // in seq order
  std::optional<uint64_t> first_seq, last_seq;
  std::optional<int64_t> first_t, last_t;
  std::map<std::string, uint64_t> boards;

  void add(const schemas::event_record& ev) {
    ++records;
    ++by_type[ev.body.index()];
    first_seq = std::min(first_seq.value_or(ev.seq), ev.seq);
    last_seq = std::max(last_seq.value_or(ev.seq), ev.seq);
    first_t = std::min(first_t.value_or(ev.time_ms), ev.time_ms);
    last_t = std::max(last_t.value_or(ev.time_ms), ev.time_ms);
    ++boards[schemas::board_of(ev.body)];
    if (const auto* r = std::get_if<schemas::rollover_body>(&ev.body))
      rollovers.push_back(rollover_seen{ev.seq, *r});
  }

  void add(const event_stats& o) {
    records += o.records;
    for (int i = 0; i < type_count; ++i)
      by_type[i] += o.by_type[i];
    rollovers.insert(rollovers.end(), o.rollovers.begin(), o.rollovers.end());
    if (o.first_seq) {
      first_seq = std::min(first_seq.value_or(*o.first_seq), *o.first_seq);
      last_seq = std::max(last_seq.value_or(*o.last_seq), *o.last_seq);
      first_t = std::min(first_t.value_or(*o.first_t), *o.first_t);
      last_t = std::max(last_t.value_or(*o.last_t), *o.last_t);
    }
    for (const auto& [b, n] : o.boards)
      boards[b] += n;
  }

  // Most events first, then by name, so that the output is stable.
  std::vector<std::pair<std::string, uint64_t>> boards_by_count() const {
    std::vector<std::pair<std::string, uint64_t>> v(boards.begin(), boards.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    return v;
  }
};

struct snapshot_facts {
  std::optional<schemas::snapshot_head> head;
  uint64_t boards = 0, entries = 0;
  uint64_t seasons = 0, season_entries = 0; // kept closed seasons
  bool in_season = false;
  bool end_seen = false;
};

struct file_report {
  fs::path path;
  bool snapshot = false;
  uint64_t bytes = 0;
  uint64_t header_seq = 0;
  uint32_t version = 0;
  bool header_ok = false;
  event_stats events;  // segments
  snapshot_facts snap; // snapshots
  std::vector<damage> damages;
};

// The scanner's messages start with the file's name, which every line of
// inspect's report already shows.
std::string without_file(const std::string& message, const fs::path& file) {
  const std::string prefix = file.string() + ": ";
  return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
}

// Turns the offsets of the records a scan saw into the stretches it had to
// skip: every byte of an intact file belongs to its header or to a record, so
// a jump between one record's end and the next one's start is damage.
class stretch_tracker {
public:
  // A record at `offset` whose framing held (its body may still be bad).
  void record(uint64_t offset, std::size_t body_size) {
    if (offset != expect_)
      gaps_.emplace_back(expect_, offset);
    expect_ = offset + storage::record_header_size + body_size;
  }

  // The stretches as damage, described by the scan where it saw them first.
  void report(const storage::scan_result& res, const fs::path& file, uint64_t file_size,
              std::vector<damage>& out) const {
    auto describe = [&](uint64_t from, uint64_t to, bool tail) {
      damage d{from, tail ? "torn_tail" : "corrupt", ""};
      if (res.damage_offset == from && res.damage != damage_kind::none) {
        d.kind = kind_name(res.damage);
        d.message = without_file(res.message, file);
      } else if (tail) {
        d.message = std::to_string(to - from) + " bytes after the last good record (offset "
                    + std::to_string(from) + ") are not a whole record: a cut-short write";
      } else {
        d.message = std::to_string(to - from) + " bytes at offset " + std::to_string(from)
                    + " are not valid records (bad length or checksum); reading resumed at "
                    + std::to_string(to);
      }
      out.push_back(std::move(d));
    };
    for (const auto& [from, to] : gaps_)
      describe(from, to, false);
    if (expect_ < file_size)
      describe(expect_, file_size, true);
  }

private:
  uint64_t expect_ = storage::file_header_size;
  std::vector<std::pair<uint64_t, uint64_t>> gaps_;
};

uint64_t size_of(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : n;
}

// Damage in the file header leaves nothing to read after it.
bool header_damage(damage_kind k) {
  return k == damage_kind::empty_file || k == damage_kind::bad_header
         || k == damage_kind::newer_version;
}

template <class OnBody>
void scan(file_report& r, file_kind kind, OnBody&& on_body) {
  r.bytes = size_of(r.path);
  stretch_tracker stretches;
  storage::scan_result res;
  const auto read = storage::scan_file(
    r.path, kind,
    [&](uint64_t offset, std::string_view body) -> std::string {
      stretches.record(offset, body.size());
      std::string why = on_body(offset, body);
      if (!why.empty())
        r.damages.push_back({offset, "bad_body", why});
      return why;
    },
    res, storage::on_damage::skip);
  if (!read.ok()) {
    r.damages.push_back({0, "unreadable", read.message()});
    return;
  }
  r.header_seq = res.header_seq;
  r.version = res.version;
  if (header_damage(res.damage)) {
    r.damages.push_back(
      {res.damage_offset, kind_name(res.damage), without_file(res.message, r.path)});
    return;
  }
  r.header_ok = true;
  stretches.report(res, r.path, r.bytes, r.damages);
  std::stable_sort(r.damages.begin(), r.damages.end(),
                   [](const damage& a, const damage& b) { return a.offset < b.offset; });
}

file_report inspect_segment(const fs::path& path) {
  file_report r;
  r.path = path;
  std::optional<uint64_t> last_seq;
  scan(r, file_kind::segment, [&](uint64_t offset, std::string_view body) -> std::string {
    auto decoded = schemas::decode_event(body.data(), body.size());
    if (auto* why = std::get_if<std::string>(&decoded))
      return "record body: " + *why;
    const auto& ev = std::get<schemas::event_record>(decoded);
    // Out of order is not a reading error: count the record and go on.
    if (last_seq && ev.seq <= *last_seq)
      r.damages.push_back({offset, "seq_order",
                           "seq " + std::to_string(ev.seq) + " follows seq "
                             + std::to_string(*last_seq)
                             + "; a log holds seqs in increasing order"});
    last_seq = ev.seq;
    r.events.add(ev);
    return {};
  });
  if (r.header_ok && r.events.first_seq && *r.events.first_seq <= r.header_seq)
    r.damages.insert(r.damages.begin(),
                     damage{0, "seq_order",
                            "the header says the segment follows seq "
                              + std::to_string(r.header_seq) + ", but it holds seq "
                              + std::to_string(*r.events.first_seq)});
  return r;
}

file_report inspect_snapshot(const fs::path& path) {
  file_report r;
  r.path = path;
  r.snapshot = true;
  auto& s = r.snap;
  scan(r, file_kind::snapshot, [&](uint64_t, std::string_view body) -> std::string {
    auto decoded = schemas::decode_snapshot_item(body.data(), body.size());
    if (auto* why = std::get_if<std::string>(&decoded))
      return "record body: " + *why;
    const auto& item = std::get<schemas::snapshot_item>(decoded);
    if (s.end_seen)
      return "a record after the end record";
    if (!s.head && !std::holds_alternative<schemas::snapshot_head>(item))
      return "the first record is not the head record";
    return std::visit(schemas::overload{
                        [&](const schemas::snapshot_head& head) -> std::string {
                          if (s.head)
                            return "a second head record";
                          s.head = head;
                          return {};
                        },
                        [&](const schemas::snapshot_board&) -> std::string {
                          ++s.boards;
                          s.in_season = false;
                          return {};
                        },
                        // A closed season's entries are not the board's.
                        [&](const schemas::snapshot_season&) -> std::string {
                          if (s.boards == 0)
                            return "a season before any board record";
                          ++s.seasons;
                          s.in_season = true;
                          return {};
                        },
                        [&](const schemas::snapshot_chunk& chunk) -> std::string {
                          if (s.boards == 0)
                            return "entries before any board record";
                          (s.in_season ? s.season_entries : s.entries) += chunk.entries.size();
                          return {};
                        },
                        [&](const schemas::snapshot_end& end) -> std::string {
                          s.end_seen = true;
                          if (end.boards == s.boards && end.entries == s.entries
                              && s.head->boards == s.boards && s.head->entries == s.entries)
                            return {};
                          return "counts disagree: head says " + std::to_string(s.head->boards)
                                 + " boards, " + std::to_string(s.head->entries)
                                 + " entries; end says " + std::to_string(end.boards) + ", "
                                 + std::to_string(end.entries) + "; the file holds "
                                 + std::to_string(s.boards) + ", " + std::to_string(s.entries);
                        },
                      },
                      item);
  });
  if (!s.end_seen && r.damages.empty())
    r.damages.push_back(
      {r.bytes, "no_end", "no end record: the snapshot was cut short (recovery skips it)"});
  if (r.header_ok && s.head && s.head->seq != r.header_seq)
    r.damages.push_back({0, "bad_header",
                         "the header says seq " + std::to_string(r.header_seq)
                           + ", the head record " + std::to_string(s.head->seq)});
  return r;
}

// A folder's segments must follow each other: each one's header names the
// last seq logged before it, which is where the previous one ended.
void check_continuity(const file_report& prev, file_report& cur) {
  if (!prev.header_ok || !cur.header_ok)
    return; // an unreadable header says nothing about continuity
  const uint64_t prev_end = prev.events.last_seq.value_or(prev.header_seq);
  if (cur.header_seq != prev_end)
    cur.damages.insert(cur.damages.begin(),
                       damage{0, "gap",
                              "this segment follows seq " + std::to_string(cur.header_seq)
                                + ", but " + prev.path.filename().string() + " ends at seq "
                                + std::to_string(prev_end)
                                + ": a segment is missing, damaged or out of place"});
}

// ---------------------------------------------------------------- text

std::string types_text(const event_stats& s) {
  std::string out;
  for (int i = 0; i < type_count; ++i)
    if (s.by_type[i] > 0)
      out += (out.empty() ? "" : ", ") + std::string(type_names[i]) + " "
             + std::to_string(s.by_type[i]);
  return out.empty() ? "no events" : out;
}

constexpr std::size_t boards_shown = 20;

void print_event_stats(const event_stats& s, bool board_table) {
  std::cout << "  records  " << s.records << " (" << types_text(s) << ")\n";
  if (s.first_seq) {
    std::cout << "  seq      " << *s.first_seq << " .. " << *s.last_seq << '\n'
              << "  time     " << iso_time(*s.first_t) << " .. " << iso_time(*s.last_t) << '\n';
  }
  const auto boards = s.boards_by_count();
  const std::size_t shown = std::min(boards.size(), boards_shown);
  std::cout << "  boards   " << boards.size();
  if (board_table && !boards.empty()) {
    std::cout << '\n';
    table t({"BOARD", "EVENTS"}, {false, true});
    for (std::size_t i = 0; i < shown; ++i)
      t.add({printable(boards[i].first), std::to_string(boards[i].second)});
    std::cout << t.render("    ");
    if (boards.size() > shown)
      std::cout << "    ... and " << boards.size() - shown << " more\n";
    return;
  }
  for (std::size_t i = 0; i < shown; ++i)
    std::cout << (i == 0 ? ": " : ", ") << printable(boards[i].first) << ' ' << boards[i].second;
  if (boards.size() > shown)
    std::cout << ", ... and " << boards.size() - shown << " more";
  std::cout << '\n';
}

constexpr std::size_t rollovers_shown = 50;

// The seasons the log closed: which board, which season, when and how.
void print_rollovers(const event_stats& s) {
  if (s.rollovers.empty())
    return;
  std::cout << "  rollovers " << s.rollovers.size() << '\n';
  table t({"SEQ", "BOARD", "SEASON", "ENDED", "NEXT STARTS", "HOW"},
          {true, false, true, false, false, false});
  const std::size_t from
    = s.rollovers.size() > rollovers_shown ? s.rollovers.size() - rollovers_shown : 0;
  for (std::size_t i = from; i < s.rollovers.size(); ++i) {
    const auto& r = s.rollovers[i];
    t.add({std::to_string(r.seq), printable(r.body.board), std::to_string(r.body.season),
           iso_time(r.body.end_ms), iso_time(r.body.start_ms),
           r.body.scheduled ? "scheduled" : "reset archive"});
  }
  if (from > 0)
    std::cout << "    (the last " << rollovers_shown << ")\n";
  std::cout << t.render("    ");
}

void print_damage(const file_report& r) {
  if (r.damages.empty()) {
    std::cout << "  check    intact (" << r.bytes << " bytes)\n";
    return;
  }
  std::cout << "  check    DAMAGED: " << count(r.damages.size(), "problem", "problems") << '\n';
  for (const auto& d : r.damages)
    std::cout << "    " << printable(r.path.string()) << " offset " << d.offset << ": " << d.kind
              << ": " << printable(d.message) << '\n';
}

void print_segment(const file_report& r) {
  std::cout << printable(r.path.string()) << '\n';
  print_event_stats(r.events, false);
  print_damage(r);
}

void print_snapshot(const file_report& r) {
  const auto& s = r.snap;
  std::cout << printable(r.path.string()) << '\n';
  if (s.head) {
    std::cout << "  snapshot at seq " << s.head->seq << ", taken " << iso_time(s.head->time_ms)
              << ", " << count(s.head->boards, "board", "boards") << ", "
              << count(s.head->entries, "entry", "entries");
    if (s.seasons > 0)
      std::cout << "; " << count(s.seasons, "closed season", "closed seasons") << " kept, "
                << count(s.season_entries, "entry", "entries");
    std::cout << '\n';
  }
  print_damage(r);
}

// ---------------------------------------------------------------- JSON

void pack_seq_time(json_packer& p, const event_stats& s) {
  pack_str(p, "seq");
  if (s.first_seq) {
    p.pack_map(2);
    pack_str(p, "first"), p.pack(*s.first_seq);
    pack_str(p, "last"), p.pack(*s.last_seq);
  } else {
    p.pack_nil();
  }
  pack_str(p, "time");
  if (s.first_t) {
    p.pack_map(4);
    pack_str(p, "first"), pack_str(p, iso_time(*s.first_t));
    pack_str(p, "last"), pack_str(p, iso_time(*s.last_t));
    pack_str(p, "first_ms"), p.pack(*s.first_t);
    pack_str(p, "last_ms"), p.pack(*s.last_t);
  } else {
    p.pack_nil();
  }
}

// records, events, seq, time, boards, rollovers: 6 keys.
void pack_event_stats(json_packer& p, const event_stats& s) {
  pack_str(p, "records"), p.pack(s.records);
  pack_str(p, "events");
  p.pack_map(type_count);
  for (int i = 0; i < type_count; ++i)
    pack_str(p, type_names[i]), p.pack(s.by_type[i]);
  pack_seq_time(p, s);
  pack_str(p, "boards");
  const auto boards = s.boards_by_count();
  p.pack_array(static_cast<uint32_t>(boards.size()));
  for (const auto& [name, n] : boards) {
    p.pack_map(2);
    pack_str(p, "board"), pack_str(p, name);
    pack_str(p, "events"), p.pack(n);
  }
  pack_str(p, "rollovers");
  p.pack_array(static_cast<uint32_t>(s.rollovers.size()));
  for (const auto& r : s.rollovers) {
    p.pack_map(6);
    pack_str(p, "seq"), p.pack(r.seq);
    pack_str(p, "board"), pack_str(p, r.body.board);
    pack_str(p, "season"), p.pack(r.body.season);
    pack_str(p, "end_ms"), p.pack(r.body.end_ms);
    pack_str(p, "start_ms"), p.pack(r.body.start_ms);
    pack_str(p, "scheduled"), p.pack(r.body.scheduled);
  }
}

void pack_damages(json_packer& p, const file_report& r) {
  pack_str(p, "damage");
  p.pack_array(static_cast<uint32_t>(r.damages.size()));
  for (const auto& d : r.damages) {
    p.pack_map(3);
    pack_str(p, "offset"), p.pack(d.offset);
    pack_str(p, "kind"), pack_str(p, d.kind);
    pack_str(p, "message"), pack_str(p, d.message);
  }
}

void pack_segment(json_packer& p, const file_report& r) {
  p.pack_map(11);
  pack_str(p, "file"), pack_str(p, r.path.string());
  pack_str(p, "bytes"), p.pack(r.bytes);
  pack_str(p, "header_seq"), p.pack(r.header_seq);
  pack_str(p, "version"), p.pack(r.version);
  pack_event_stats(p, r.events);
  pack_damages(p, r);
}

void pack_snapshot(json_packer& p, const file_report& r) {
  const auto& s = r.snap;
  p.pack_map(8);
  pack_str(p, "file"), pack_str(p, r.path.string());
  pack_str(p, "bytes"), p.pack(r.bytes);
  pack_str(p, "seq"), p.pack(r.header_seq);
  pack_str(p, "time");
  if (s.head)
    pack_str(p, iso_time(s.head->time_ms));
  else
    p.pack_nil();
  pack_str(p, "boards"), p.pack(s.boards);
  pack_str(p, "entries"), p.pack(s.entries);
  pack_str(p, "complete"), p.pack(s.end_seen && r.damages.empty());
  pack_damages(p, r);
}

} // namespace

int run_inspect(const options& o) {
  const auto inputs = resolve_inputs(o.logs);
  std::vector<file_report> segments, snapshots;
  bool anything = false;
  for (const auto& in : inputs) {
    if (in.snapshot) {
      snapshots.push_back(inspect_snapshot(in.path));
      anything = true;
      continue;
    }
    if (!in.folder) {
      segments.push_back(inspect_segment(in.path));
      anything = true;
      continue;
    }
    storage::data_files listed;
    storage::throw_if_error(storage::list_files(in.path, listed));
    const auto& segs = listed.segments;
    const auto& snaps = listed.snapshots;
    if (segs.empty() && snaps.empty())
      std::cerr << "lb-replay: " << printable(in.path.string())
                << " holds no events-*.log segments and no snapshots\n";
    for (std::size_t i = 0; i < segs.size(); ++i) {
      segments.push_back(inspect_segment(segs[i].path));
      if (i > 0)
        check_continuity(segments[segments.size() - 2], segments.back());
    }
    for (const auto& snap : snaps)
      snapshots.push_back(inspect_snapshot(snap.path));
    anything = anything || !segs.empty() || !snaps.empty();
  }
  if (!anything)
    throw usage_error("nothing to inspect: is that leaderboardd's --data folder?");

  event_stats total;
  std::size_t damaged_files = 0, problems = 0;
  for (const auto* list : {&segments, &snapshots})
    for (const auto& r : *list) {
      total.add(r.events);
      damaged_files += !r.damages.empty();
      problems += r.damages.size();
    }

  if (o.json) {
    msgpack::sbuffer buf;
    json_packer p(buf);
    p.pack_map(4);
    pack_str(p, "ok"), p.pack(problems == 0);
    pack_str(p, "files");
    p.pack_array(static_cast<uint32_t>(segments.size()));
    for (const auto& r : segments)
      pack_segment(p, r);
    pack_str(p, "snapshots");
    p.pack_array(static_cast<uint32_t>(snapshots.size()));
    for (const auto& r : snapshots)
      pack_snapshot(p, r);
    pack_str(p, "total");
    p.pack_map(10);
    pack_str(p, "files"), p.pack(segments.size());
    pack_str(p, "snapshots"), p.pack(snapshots.size());
    pack_event_stats(p, total);
    pack_str(p, "damaged_files"), p.pack(damaged_files);
    pack_str(p, "problems"), p.pack(problems);
    print_json(buf);
  } else {
    for (const auto& r : segments)
      print_segment(r);
    for (const auto& r : snapshots)
      print_snapshot(r);
    std::cout << "total: " << count(segments.size(), "segment", "segments");
    if (!snapshots.empty())
      std::cout << ", " << count(snapshots.size(), "snapshot", "snapshots");
    std::cout << '\n';
    print_event_stats(total, true);
    print_rollovers(total);
    if (problems == 0)
      std::cout << "  check    every record intact\n";
    else
      std::cout << "  check    DAMAGED: " << count(problems, "problem", "problems") << " in "
                << count(damaged_files, "file", "files")
                << " (listed above; leaderboardd --repair keeps every good record)\n";
  }
  return problems == 0 ? exit_ok : exit_failed;
}

} // namespace lb::replay
