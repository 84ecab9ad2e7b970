#include "actors/storage/recovery_plan.hpp"

#include <algorithm>
#include <utility>

#include "actors/storage/log_format.hpp"
#include "actors/storage/log_reader.hpp"

namespace lb::storage {

namespace {

constexpr uint64_t progress_every = 1'000'000;

class planner {
public:
  planner(const plan_options& opts, std::vector<replay_state>& state, const event_fn& on_event,
          recovery_plan& out)
    : opts_(opts), state_(state), on_event_(on_event), out_(out) {}

  status run() {
    out_ = recovery_plan();
    if (status st = list_files(opts_.dir, out_.files); !st.ok())
      return st;
    const auto& segs = out_.files.segments;
    const auto& snaps = out_.files.snapshots;
    // A segment's name holds the first seq it may hold, its header the last
    // seq logged before it: one apart, so a name cannot hold 0. It sorts first.
    if (!segs.empty() && segs.front().seq == 0) {
      halt(plan_stop::kind::unusable,
           segs.front().path.string()
             + ": a segment name must hold a seq of at least 1; move the file out of the data "
               "folder");
      return {};
    }
    // Where the log begins: with no segment left, only the newest snapshot
    // can be trusted to hold everything.
    out_.log_start = !segs.empty() ? segs.front().seq - 1 : snaps.empty() ? 0 : snaps.back().seq;
    if (opts_.use_snapshots && !choose_snapshot())
      return {};
    return read_segments();
  }

private:
  // Stops the plan; returns false, for the callers' convenience.
  bool halt(plan_stop::kind what, std::string message) {
    out_.stop = plan_stop{what, std::move(message)};
    return false;
  }

  void say(const std::string& line) const {
    if (opts_.progress)
      opts_.progress(line);
  }

  // The newest snapshot that loads and that the log continues. Returns false
  // when there is none and the log does not start at seq 0.
  bool choose_snapshot() {
    const auto& snaps = out_.files.snapshots;
    for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
      if (it->seq > opts_.until_seq)
        continue;
      // Older ones are not continued by the log either, unless no event
      // after it is wanted.
      if (it->seq < out_.log_start && it->seq != opts_.until_seq)
        break;
      std::vector<replay_state> attempt(state_.size());
      snapshot_summary sum;
      status st = read_snapshot(it->path, attempt, sum);
      if (st.ok() && sum.seq != it->seq)
        st = status::error(it->path.string() + ": named for seq " + std::to_string(it->seq)
                           + " but holds seq " + std::to_string(sum.seq));
      if (st.ok()) {
        state_ = std::move(attempt);
        out_.snapshot = *it;
        say("loaded " + it->path.string() + ": " + std::to_string(sum.boards) + " boards, "
            + std::to_string(sum.entries) + " entries at seq " + std::to_string(sum.seq));
        return true;
      }
      out_.skipped.push_back({it->path, st.message()});
    }
    // An empty state needs every event from seq 1 up to the one wanted.
    if (out_.log_start == 0 || opts_.until_seq == 0)
      return true;
    return halt(plan_stop::kind::history, no_start_message());
  }

  std::string no_start_message() const {
    const auto& segs = out_.files.segments;
    const auto& snaps = out_.files.snapshots;
    const std::string log_part
      = segs.empty() ? "there is no event-log segment to replace it"
                     : "the event log starts after seq " + std::to_string(out_.log_start) + " ("
                         + segs.front().path.string() + "), so the segments before it were deleted";
    std::string why;
    if (!out_.skipped.empty()) {
      why = "every snapshot the log could continue is damaged (";
      for (std::size_t i = 0; i < out_.skipped.size(); ++i)
        why += (i ? ", " : "") + out_.skipped[i].file.string();
      why += ") and " + log_part;
    } else if (!snaps.empty()) {
      why = "the newest snapshot (" + snaps.back().path.string()
            + ") is older than the start of the log: " + log_part;
    } else {
      why = "there is no snapshot and " + log_part;
    }
    return "cannot rebuild the state from " + opts_.dir.string() + ": " + why
           + ". Restore the data folder from a backup (lb-replay can read the segments that are "
             "left).";
  }

  status read_segments() {
    const auto& segs = out_.files.segments;
    const uint64_t base = out_.snapshot_seq();
    if (segs.empty()) {
      out_.log_last_seq = base;
      return {};
    }
    // Segments wholly at or before the start (their successor's header says
    // so) are not read.
    std::size_t first = 0;
    while (first + 1 < segs.size() && segs[first + 1].seq - 1 <= base)
      ++first;
    for (std::size_t i = first; i < segs.size(); ++i) {
      planned_segment seg;
      scan_result r;
      uint64_t copy_size = 0;
      if (status st = read_segment(segs[i], seg, r, copy_size); !st.ok())
        return st;
      if (!judge(seg, r, copy_size, i + 1 == segs.size()))
        return {};
      out_.segments.push_back(std::move(seg));
      if (r.stopped)
        return {}; // past until_seq: nothing after it is looked at
    }
    where_the_log_ends();
    return {};
  }

  // Scans one segment, passing its events after the start on. `copy_size`
  // gets the size of a copy that keeps its good records only.
  status read_segment(const file_info& file, planned_segment& seg, scan_result& r,
                      uint64_t& copy_size) {
    seg.file = file;
    seg.header_seq = seg.last_seq = file.seq - 1;
    const uint64_t base = out_.snapshot_seq();
    std::optional<uint64_t> last = seg.header_seq;
    copy_size = file_header_size;
    schemas::event_record ev;
    status st = scan_file(
      file.path, file_kind::segment,
      [&](uint64_t, std::string_view body) {
        std::string why = accept_event(body, last, ev);
        if (!why.empty())
          return why;
        if (ev.seq > opts_.until_seq)
          throw stop_scan{};
        seg.last_seq = ev.seq;
        ++seg.records;
        copy_size += record_header_size + body.size();
        if (ev.seq > base) {
          on_event_(ev);
          if (++out_.events % progress_every == 0)
            say("replayed " + std::to_string(out_.events) + " events");
        }
        return why;
      },
      r, opts_.repair ? on_damage::skip : on_damage::stop);
    seg.size = r.size;
    seg.end = r.good_end;
    return st;
  }

  // Decides what becomes of a segment from its scan. Returns false when the
  // plan stops at it.
  bool judge(planned_segment& seg, const scan_result& r, uint64_t copy_size, bool newest) {
    const std::string name = seg.file.path.string();
    if (r.damage == damage_kind::empty_file) {
      if (!newest)
        return halt(plan_stop::kind::unusable,
                    r.message
                      + "; it is not the newest segment, so it should hold events: restore it "
                        "from a backup");
      // Its name still says which seq it follows: a segment missing before
      // it would otherwise go unnoticed, and its seqs be given out again.
      if (!out_.segments.empty() && !follows(out_.segments.back(), seg))
        return false;
      seg.action = segment_action::remove;
      seg.damage = r.message;
      return true;
    }
    if (r.damage == damage_kind::bad_header)
      return halt(plan_stop::kind::unusable,
                  r.message + "; if it is not an lbd file, move it out of the data folder");
    if (r.damage == damage_kind::newer_version)
      return halt(plan_stop::kind::unusable, r.message);
    if (r.header_seq != seg.header_seq)
      return halt(plan_stop::kind::unusable,
                  name + ": its header says it follows seq " + std::to_string(r.header_seq)
                    + " but its name says seq " + std::to_string(seg.header_seq)
                    + "; was it renamed? Restore its original name");
    if (!out_.segments.empty() && !follows(out_.segments.back(), seg))
      return false;
    if (r.damage == damage_kind::none)
      return true;
    seg.damage_offset = r.damage_offset;
    seg.damage = r.message;
    if (r.damage == damage_kind::torn_tail && newest) {
      seg.action = segment_action::cut_tail;
      return true;
    }
    if (!opts_.repair)
      return halt(plan_stop::kind::damage, r.message);
    seg.action = segment_action::repair;
    seg.end = copy_size;
    return true;
  }

  // Whether `seg` continues `prev`: its header names prev's last seq.
  bool follows(const planned_segment& prev, planned_segment& seg) {
    const uint64_t prev_last = prev.last_seq;
    const uint64_t header = seg.header_seq;
    if (header == prev_last)
      return true;
    const std::string prev_name = prev.file.path.string();
    const std::string name = seg.file.path.string();
    if (header > prev_last && prev.action == segment_action::repair) {
      seg.lost_from = prev_last + 1;
      return true;
    }
    if (header > prev_last)
      return halt(plan_stop::kind::unusable,
                  "missing segment: " + prev_name + " ends at seq " + std::to_string(prev_last)
                    + " but the next one, " + name + ", follows seq " + std::to_string(header)
                    + ": the segment with events " + std::to_string(prev_last + 1) + ".."
                    + std::to_string(header) + " is missing; restore it from a backup");
    return halt(plan_stop::kind::unusable,
                name + " follows seq " + std::to_string(header) + " but " + prev_name
                  + " already goes up to seq " + std::to_string(prev_last)
                  + ": the segments overlap; move the one that does not belong out of the data "
                    "folder");
  }

  // The writer continues the newest segment kept; when the newest one goes
  // (no complete header), the one before it, or a new one after what the
  // removed one's name says.
  void where_the_log_ends() {
    const auto& segs = out_.segments;
    const planned_segment& newest = segs.back();
    const planned_segment* kept = &newest;
    if (newest.action == segment_action::remove)
      kept = segs.size() > 1 ? &segs[segs.size() - 2] : nullptr;
    out_.last_segment = kept ? kept->file.path : fs::path();
    out_.last_segment_end = kept ? kept->end : 0;
    out_.log_last_seq = kept ? kept->last_seq : std::max(out_.snapshot_seq(), newest.header_seq);
  }

  const plan_options& opts_;
  std::vector<replay_state>& state_;
  const event_fn& on_event_;
  recovery_plan& out_;
};

} // namespace

status plan_recovery(const plan_options& opts, std::vector<replay_state>& state,
                     const event_fn& on_event, recovery_plan& out) {
  return planner(opts, state, on_event, out).run();
}

} // namespace lb::storage
