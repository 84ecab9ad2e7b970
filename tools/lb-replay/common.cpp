#include "tools/lb-replay/common.hpp"

#include <string_view>
#include <system_error>
#include <variant>

#include "actors/storage/recovery.hpp"

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
    for (const auto& seg : storage::list_segments(inputs[0].path))
      src.segments.push_back(seg.path);
  } else {
    for (const auto& in : inputs)
      src.segments.push_back(in.path);
  }
  return src;
}

void read_log(const std::vector<fs::path>& files, bool folder, const event_fn& on_event,
              std::vector<std::string>& notes) {
  if (!folder) {
    storage::read_events(files, on_event);
    return;
  }
  std::optional<uint64_t> last_seq;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& file = files[i];
    const auto before = last_seq;
    const auto res = storage::scan_file(
      file, storage::file_kind::segment,
      [&](uint64_t offset, std::string_view body) -> std::string {
        auto decoded = schemas::decode_event(body.data(), body.size());
        if (auto* why = std::get_if<std::string>(&decoded))
          return "record body: " + *why;
        const auto& ev = std::get<schemas::event_record>(decoded);
        if (last_seq && ev.seq <= *last_seq)
          throw storage::storage_error(file.string() + ", offset " + std::to_string(offset)
                                       + ": seq " + std::to_string(ev.seq) + " follows seq "
                                       + std::to_string(*last_seq)
                                       + " (run lb-replay inspect on the folder for details)");
        last_seq = ev.seq;
        on_event(ev);
        return {};
      });
    const bool newest = i + 1 == files.size();
    if (newest && res.damage == storage::damage_kind::empty_file) {
      notes.push_back(res.message + " (skipped, as recovery would)");
      continue;
    }
    if (newest && res.damage == storage::damage_kind::torn_tail) {
      notes.push_back(res.message + " (the log ends before it, as recovery would cut it)");
    } else if (res.damage != storage::damage_kind::none) {
      throw storage::storage_error(res.message
                                   + " (lb-replay inspect lists every damaged record; "
                                     "leaderboardd --repair keeps every good one)");
    }
    // The header names the last seq before the segment; an earlier segment
    // that ended elsewhere means one is missing in between.
    if (before && res.header_seq != *before)
      throw storage::storage_error(file.string() + " follows seq " + std::to_string(res.header_seq)
                                   + ", but the segments before it end at seq "
                                   + std::to_string(*before)
                                   + ": a segment is missing or out of place");
  }
}

} // namespace lb::replay
