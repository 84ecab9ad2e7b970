#include "tools/lb-replay/common.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <system_error>
#include <variant>

#include "schemas/json.hpp"

namespace lb::replay {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

std::vector<log_input> resolve_inputs(const std::vector<std::string>& logs) {
  if (logs.empty())
    throw usage_error("no LOG given: pass a data folder (leaderboardd --data) or segment files");
  std::vector<log_input> out;
  for (const auto& arg : logs) {
    std::error_code ec;
    const auto st = fs::status(arg, ec);
    if (ec || !fs::exists(st))
      throw usage_error("'" + arg
                        + "' does not exist (expected a data folder or an events-*.log file)");
    log_input in;
    in.path = arg;
    if (fs::is_directory(st)) {
      in.folder = true;
    } else if (fs::is_regular_file(st)) {
      in.snapshot = ends_with(in.path.filename().string(), ".snap");
    } else {
      throw usage_error("'" + arg + "' is neither a file nor a folder");
    }
    out.push_back(std::move(in));
  }
  return out;
}

log_source source_of(const std::vector<log_input>& inputs) {
  log_source src;
  for (const auto& in : inputs) {
    if (in.snapshot)
      throw usage_error("'" + in.path.string()
                        + "' is a snapshot, which holds boards, not events: pass its data "
                          "folder instead");
    if (in.folder && inputs.size() > 1)
      throw usage_error("'" + in.path.string()
                        + "' is a data folder: give it alone, or give segment files only "
                          "(a folder's history cannot be joined to other files)");
  }
  if (inputs.size() == 1 && inputs[0].folder) {
    src.folder = inputs[0].path;
  } else {
    for (const auto& in : inputs)
      src.segments.push_back(in.path);
  }
  return src;
}

void read_log(const log_source& src, const event_fn& on_event, std::vector<std::string>& notes) {
  if (!src.folder) {
    storage::throw_if_error(storage::read_events(src.segments, no_limit, on_event));
    return;
  }
  storage::plan_options po;
  po.dir = *src.folder;
  po.use_snapshots = false;
  std::vector<storage::replay_state> no_state;
  storage::recovery_plan plan;
  storage::throw_if_error(storage::plan_recovery(po, no_state, on_event, plan));
  take_plan(plan, notes);
}

void take_plan(const storage::recovery_plan& plan, std::vector<std::string>& notes) {
  for (const auto& seg : plan.segments) {
    if (seg.action == storage::segment_action::cut_tail)
      notes.push_back(seg.damage + " (the log ends before it, as recovery would cut it)");
    else if (seg.action == storage::segment_action::remove)
      notes.push_back(seg.damage + " (skipped, as recovery would)");
  }
  if (!plan.stop)
    return;
  std::string why = plan.stop->message;
  if (plan.stop->what == storage::plan_stop::kind::damage)
    why += " (lb-replay inspect lists every damaged record; leaderboardd --repair keeps every "
           "good one)";
  throw storage::storage_error(storage::status::error(why));
}

// ---------------------------------------------------------------- text

std::string iso_time(int64_t ms) {
  // Floor division, so that times before 1970 still print a valid stamp.
  int64_t secs = ms / 1000, frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr)
    return std::to_string(ms) + " ms";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(frac));
  return buf;
}

std::string meta_text(const std::optional<schemas::meta_value>& meta) {
  if (!meta)
    return "";
  if (!meta->is_bin)
    return printable(meta->bytes);
  static const char digits[] = "0123456789abcdef";
  std::string out = "0x";
  for (unsigned char c : meta->bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string count(uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string duration_text(double seconds) {
  char buf[64];
  if (!(seconds >= 0) || std::isinf(seconds))
    return "?";
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  } else if (seconds < 3600) {
    const auto s = static_cast<long>(seconds);
    std::snprintf(buf, sizeof buf, "%ld min %02ld s", s / 60, s % 60);
  } else {
    const auto m = static_cast<long>(seconds / 60);
    std::snprintf(buf, sizeof buf, "%ld h %02ld min", m / 60, m % 60);
  }
  return buf;
}

table::table(std::vector<std::string> header, std::vector<bool> right)
  : header_(std::move(header)), right_(std::move(right)) {}

std::string table::render(const std::string& indent) const {
  // Characters on screen, counting a UTF-8 sequence as one.
  auto width = [](const std::string& s) {
    std::size_t n = 0;
    for (unsigned char c : s)
      n += (c & 0xC0) != 0x80;
    return n;
  };
  std::vector<const std::vector<std::string>*> rows{&header_};
  for (const auto& r : rows_)
    rows.push_back(&r);
  std::vector<std::size_t> widths(header_.size(), 0);
  for (const auto* row : rows)
    for (std::size_t c = 0; c < row->size(); ++c)
      widths[c] = std::max(widths[c], width((*row)[c]));
  std::string out;
  for (const auto* row : rows) {
    std::string line = indent;
    for (std::size_t c = 0; c < row->size(); ++c) {
      const auto& cell = (*row)[c];
      const std::string pad(widths[c] - width(cell), ' ');
      line += (c > 0 ? "  " : "") + (right_[c] ? pad + cell : cell + pad);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + '\n';
  }
  return out;
}

// ---------------------------------------------------------------- JSON

void pack_str(json_packer& p, std::string_view s) {
  p.pack_str(static_cast<uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
}

void pack_meta(json_packer& p, const std::optional<schemas::meta_value>& meta) {
  if (!meta) {
    p.pack_nil();
  } else if (meta->is_bin) {
    p.pack_bin(static_cast<uint32_t>(meta->bytes.size()));
    p.pack_bin_body(meta->bytes.data(), static_cast<uint32_t>(meta->bytes.size()));
  } else {
    pack_str(p, meta->bytes);
  }
}

void print_json(const msgpack::sbuffer& buf) {
  std::cout << schemas::msgpack_to_json(buf.data(), buf.size()) << '\n';
}

} // namespace lb::replay
