#include "tools/lb-replay/common.hpp"

#include <string_view>
#include <system_error>

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

void read_log(const log_source& src, uint64_t until_seq, const event_fn& on_event,
              std::vector<std::string>& notes) {
  if (!src.folder) {
    storage::throw_if_error(storage::read_events(src.segments, until_seq, on_event));
    return;
  }
  storage::plan_options po;
  po.dir = *src.folder;
  po.until_seq = until_seq;
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

} // namespace lb::replay
