// Recovery on start (docs/EVENT-LOG.md, "Recovery"): the plan loads the state
// and says what must change; this file makes the changes. Only the state is
// held in memory, never the events.
#include "actors/storage/recovery.hpp"

#include <algorithm>

#include "actors/ranking/partition.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/event_reader.hpp"
#include "actors/storage/log_format.hpp"
#include "actors/storage/log_reader.hpp"
#include "actors/storage/posix_file.hpp"
#include "actors/storage/recovery_plan.hpp"

namespace lb::storage {

namespace {

const std::string repair_advice
  = "; start with --repair to keep every good record and move the damaged file aside";

// Drops a torn tail for good: the file ends at its last good record.
status cut_tail(const planned_segment& seg) {
  posix_file f;
  status st = posix_file::open(seg.file.path, posix_file::mode::write, f);
  if (st.ok())
    st = f.truncate(seg.end);
  if (st.ok())
    st = f.sync();
  return st;
}

// An empty newest segment (a crash right after creating it) holds nothing.
status remove_empty(const fs::path& dir, const planned_segment& seg) {
  if (status st = remove_file(seg.file.path); !st.ok())
    return status::from_errno("cannot remove the empty segment " + seg.file.path.string(),
                              st.sys_errno());
  return sync_dir(dir);
}

// Keeps every good record of a damaged segment: a clean copy under the
// original name, the original moved aside as `aside`. The records kept are
// exactly those the plan read (same acceptance rule, same starting seq).
status repair(const planned_segment& seg, const fs::path& aside) {
  const fs::path& path = seg.file.path;
  temp_file copy;
  status st = create_repair_temp(path, seg.header_seq, copy);
  std::optional<uint64_t> last = seg.header_seq;
  schemas::event_record ev;
  std::string record;
  scan_result r;
  status written; // the copy's first write failure, kept apart from the scan's status
  if (st.ok())
    st = scan_file(
      path, file_kind::segment,
      [&](uint64_t, std::string_view body) {
        std::string why = accept_event(body, last, ev);
        if (why.empty() && written.ok()) {
          record.clear();
          append_record(record, body);
          written = copy.append(record);
        }
        return why;
      },
      r, on_damage::skip);
  if (st.ok())
    st = written;
  if (st.ok() && copy.size() != seg.end)
    st = status::error(path.string() + " changed while it was repaired (a copy of "
                       + std::to_string(copy.size()) + " bytes, not the " + std::to_string(seg.end)
                       + " planned): is another process writing to the data folder?");
  if (st.ok())
    st = copy.commit(aside);
  if (!st.ok())
    return status::error(st.message() + " (while repairing " + path.string() + ")");
  return {};
}

// Makes the change the plan asks for one segment, and says what was done.
status apply(const fs::path& dir, const planned_segment* prev, const planned_segment& seg,
             std::vector<std::string>& notes) {
  const std::string name = seg.file.path.string();
  if (seg.lost_from && prev)
    notes.push_back("events " + std::to_string(*seg.lost_from) + ".."
                    + std::to_string(seg.header_seq) + " were in the damaged part of "
                    + prev->file.path.string() + " and are lost");
  switch (seg.action) {
    case segment_action::read:
      return {};
    case segment_action::cut_tail:
      if (status st = cut_tail(seg); !st.ok())
        return st;
      notes.push_back("cut " + std::to_string(seg.size - seg.end) + " bytes of a torn write at "
                      + name + " offset " + std::to_string(seg.damage_offset));
      return {};
    case segment_action::remove:
      if (status st = remove_empty(dir, seg); !st.ok())
        return st;
      notes.push_back("removed " + name + ": " + seg.damage);
      return {};
    case segment_action::repair:
      break;
  }
  const fs::path aside = damaged_path(seg.file.path);
  if (status st = repair(seg, aside); !st.ok())
    return st;
  notes.push_back("repaired " + name + ": kept " + std::to_string(seg.records) + " good records; "
                  + seg.damage + "; the damaged original is " + aside.string());
  return {};
}

} // namespace

status recover(const recovery_options& opts, recovered_state& out) {
  if (opts.shards == 0)
    return status::error("recovery needs at least one shard");
  out = recovered_state();
  out.shards.resize(opts.shards);
  plan_options po;
  po.dir = opts.dir;
  po.repair = opts.repair;
  po.progress = opts.progress;
  recovery_plan plan;
  const ranking::shard_map map(opts.shards);
  const auto routed = [&out, &map](const schemas::event_record& ev) {
    for (uint32_t s : map.shards_for(ev.body))
      out.shards[s].apply(ev);
  };
  if (status st = plan_recovery(po, out.shards, routed, plan); !st.ok())
    return st;
  if (plan.stop)
    return status::error(plan.stop->message
                         + (plan.stop->what == plan_stop::kind::damage ? repair_advice : ""));
  for (const auto& s : plan.skipped)
    out.notes.push_back("skipped the damaged snapshot " + s.file.string() + ": " + s.why);
  const planned_segment* prev = nullptr;
  for (const auto& seg : plan.segments) {
    if (status st = apply(opts.dir, prev, seg, out.notes); !st.ok())
      return st;
    prev = &seg;
  }
  out.snapshot_seq = plan.snapshot_seq();
  out.events = plan.events;
  out.log_last_seq = plan.log_last_seq;
  out.last_seq = std::max(out.snapshot_seq, out.log_last_seq);
  out.last_segment = plan.last_segment;
  out.last_segment_end = plan.last_segment_end;
  return {};
}

} // namespace lb::storage
