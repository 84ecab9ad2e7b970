// Recovery on start (docs/EVENT-LOG.md, "Recovery"): choose a snapshot the
// log can continue, load it, then stream every later event into the shards.
// Only the state is held in memory, never the events.
#include "actors/storage/recovery.hpp"

#include <optional>

#include "actors/ranking/partition.hpp"
#include "actors/storage/data_dir.hpp"
#include "actors/storage/log_reader.hpp"
#include "actors/storage/posix_file.hpp"
#include "actors/storage/snapshot_file.hpp"

namespace lb::storage {

namespace {

constexpr uint64_t progress_every = 1'000'000;

const std::string repair_advice
  = "; start with --repair to keep every good record and move the damaged file aside";

// Recovery stops with a storage_error, turned into a status by recover().
[[noreturn]] void fail(std::string why) {
  throw storage_error(status::error(std::move(why)));
}

std::string name_of(const fs::path& p) {
  return p.string();
}

// A segment's name holds the first seq it may hold, its header the last seq
// logged before it: one apart.
uint64_t header_seq_from_name(const file_info& f) {
  if (f.seq == 0)
    fail(name_of(f.path)
         + ": a segment name must hold a seq of at least 1; move the file out of the data folder");
  return f.seq - 1;
}

// Why an event cannot follow `last` in the log, or empty if it can.
std::string order_problem(const schemas::event_record& ev, uint64_t last) {
  if (ev.seq > last)
    return {};
  return "seq " + std::to_string(ev.seq) + " after seq " + std::to_string(last) + ": out of order";
}

// Decodes a body and checks its order; the one rule for applying, repairing
// and lb-replay, so that they keep exactly the same records.
std::string accept_event(std::string_view body, uint64_t& last, schemas::event_record& out) {
  auto decoded = schemas::decode_event(body.data(), body.size());
  if (auto* why = std::get_if<std::string>(&decoded))
    return *why;
  auto& ev = std::get<schemas::event_record>(decoded);
  if (std::string why = order_problem(ev, last); !why.empty())
    return why;
  last = ev.seq;
  out = std::move(ev);
  return {};
}

void cut_file(const fs::path& file, uint64_t size) {
  posix_file f;
  status st = posix_file::open(file, posix_file::mode::write, f);
  if (st.ok())
    st = f.truncate(size);
  if (st.ok())
    st = f.sync();
  throw_if_error(st);
}

class recoverer {
public:
  explicit recoverer(const recovery_options& opts) : opts_(opts) {
    if (opts_.shards == 0)
      fail("recovery needs at least one shard");
  }

  recovered_state run() {
    data_files files;
    throw_if_error(list_files(opts_.dir, files));
    segs_ = std::move(files.segments);
    const auto& snaps = files.snapshots;
    // Where the log begins: with no segment left, only the newest snapshot
    // can be trusted to hold everything.
    const uint64_t log_start = !segs_.empty()  ? header_seq_from_name(segs_.front())
                               : snaps.empty() ? 0
                                               : snaps.back().seq;
    load_snapshot(snaps, log_start);
    replay_segments();
    out_.last_seq = std::max(out_.snapshot_seq, out_.log_last_seq);
    return std::move(out_);
  }

private:
  void say(const std::string& line) const {
    if (opts_.progress)
      opts_.progress(line);
  }

  // The newest snapshot that reads back clean and that the log continues.
  void load_snapshot(const std::vector<file_info>& snaps, uint64_t log_start) {
    std::vector<std::string> damaged;
    for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
      if (it->seq < log_start)
        break; // older ones are not continued either
      std::vector<replay_state> attempt(opts_.shards);
      try {
        snapshot_summary sum;
        throw_if_error(read_snapshot(it->path, attempt, sum));
        if (sum.seq != it->seq)
          fail(name_of(it->path) + ": named for seq " + std::to_string(it->seq) + " but holds seq "
               + std::to_string(sum.seq));
        out_.shards = std::move(attempt);
        out_.snapshot_seq = sum.seq;
        say("loaded " + name_of(it->path) + ": " + std::to_string(sum.boards) + " boards, "
            + std::to_string(sum.entries) + " entries at seq " + std::to_string(sum.seq));
        return;
      } catch (const storage_error& e) {
        damaged.push_back(name_of(it->path));
        out_.notes.push_back("skipped the damaged snapshot " + name_of(it->path) + ": " + e.what());
      }
    }
    if (log_start != 0)
      fail(no_start_message(snaps, damaged, log_start));
    out_.shards = std::vector<replay_state>(opts_.shards);
  }

  std::string no_start_message(const std::vector<file_info>& snaps,
                               const std::vector<std::string>& damaged, uint64_t log_start) const {
    const std::string log_part = segs_.empty()
                                   ? "there is no event-log segment to replace it"
                                   : "the event log starts after seq " + std::to_string(log_start)
                                       + " (" + name_of(segs_.front().path)
                                       + "), so the segments before it were deleted";
    std::string why;
    if (!damaged.empty()) {
      why = "every snapshot the log could continue is damaged (";
      for (std::size_t i = 0; i < damaged.size(); ++i)
        why += (i ? ", " : "") + damaged[i];
      why += ") and " + log_part;
    } else if (!snaps.empty()) {
      why = "the newest snapshot (" + name_of(snaps.back().path)
            + ") is older than the start of the log: " + log_part;
    } else {
      why = "there is no snapshot and " + log_part;
    }
    return "cannot rebuild the state from " + name_of(opts_.dir) + ": " + why
           + ". Restore the data folder from a backup (lb-replay can read the segments that are "
             "left).";
  }

  void route(const schemas::event_record& ev) {
    const auto n = static_cast<uint32_t>(out_.shards.size());
    if (auto* s = std::get_if<schemas::submit_req>(&ev.body)) {
      out_.shards[ranking::owner_shard(s->board, s->player, n)].apply(ev);
    } else if (auto* r = std::get_if<schemas::remove_req>(&ev.body)) {
      out_.shards[ranking::owner_shard(r->board, r->player, n)].apply(ev);
    } else {
      for (auto& shard : out_.shards)
        shard.apply(ev); // reset, configure: every shard
    }
    if (++out_.events % progress_every == 0)
      say("replayed " + std::to_string(out_.events) + " events");
  }

  void replay_segments() {
    const uint64_t snap = out_.snapshot_seq;
    if (segs_.empty()) {
      out_.log_last_seq = snap;
      return;
    }
    // Segments wholly at or before the snapshot (their successor's header
    // says so) are not read.
    std::size_t first = 0;
    while (first + 1 < segs_.size() && header_seq_from_name(segs_[first + 1]) <= snap)
      ++first;
    std::optional<uint64_t> prev_last; // last seq of the segment read before
    bool prev_lost = false;            // it was repaired and may have lost its last records
    const fs::path* prev_path = nullptr;
    uint64_t prev_end = 0;
    for (std::size_t i = first; i < segs_.size(); ++i) {
      const bool newest = i + 1 == segs_.size();
      const uint64_t header = header_seq_from_name(segs_[i]);
      uint64_t last = header;
      uint64_t end = 0;
      bool lost = false;
      if (!replay_segment(segs_[i].path, header, newest, prev_last, prev_lost, prev_path, last, end,
                          lost)) {
        // An empty newest segment was removed: the writer continues the one
        // before, or starts afresh after what the removed one's name says.
        out_.last_segment = prev_path ? *prev_path : fs::path();
        out_.last_segment_end = prev_path ? prev_end : 0;
        out_.log_last_seq = prev_last ? *prev_last : std::max(snap, header);
        return;
      }
      prev_last = last;
      prev_lost = lost;
      prev_path = &segs_[i].path;
      prev_end = end;
    }
    out_.last_segment = *prev_path;
    out_.last_segment_end = prev_end;
    out_.log_last_seq = *prev_last;
  }

  // Reads one segment into the shards. Returns false if it was an empty
  // newest segment and was removed. `last` gets its last seq, `end` the end
  // of its last good record, `lost` whether repair dropped records from it.
  bool replay_segment(const fs::path& path, uint64_t header, bool newest,
                      const std::optional<uint64_t>& prev_last, bool prev_lost,
                      const fs::path* prev_path, uint64_t& last, uint64_t& end, bool& lost) {
    const uint64_t snap = out_.snapshot_seq;
    schemas::event_record ev;
    scan_result r;
    throw_if_error(scan_file(
      path, file_kind::segment,
      [&](uint64_t, std::string_view body) {
        std::string why = accept_event(body, last, ev);
        if (why.empty() && ev.seq > snap)
          route(ev);
        return why;
      },
      r, opts_.repair ? on_damage::skip : on_damage::stop));
    if (r.damage == damage_kind::empty_file) {
      if (!newest)
        fail(r.message
             + "; it is not the newest segment, so it should hold events: restore it "
               "from a backup");
      if (status st = remove_file(path); !st.ok())
        fail("cannot remove the empty segment " + name_of(path) + ": "
             + errno_text(st.sys_errno()));
      throw_if_error(sync_dir(opts_.dir));
      out_.notes.push_back("removed " + name_of(path) + ": " + r.message);
      return false;
    }
    if (r.damage == damage_kind::bad_header)
      fail(r.message + "; if it is not an lbd file, move it out of the data folder");
    if (r.damage == damage_kind::newer_version)
      fail(r.message);
    if (r.header_seq != header)
      fail(name_of(path) + ": its header says it follows seq " + std::to_string(r.header_seq)
           + " but its name says seq " + std::to_string(header)
           + "; was it renamed? Restore its original name");
    if (prev_last)
      check_chain(*prev_path, *prev_last, prev_lost, path, header);
    end = r.good_end;
    if (r.damage == damage_kind::none)
      return true;
    if (r.damage == damage_kind::torn_tail && newest) {
      std::error_code ec;
      const uint64_t size = fs::file_size(path, ec);
      cut_file(path, r.good_end);
      out_.notes.push_back("cut " + (ec ? std::string("the") : std::to_string(size - r.good_end))
                           + " bytes of a torn write at " + name_of(path) + " offset "
                           + std::to_string(r.damage_offset));
      return true;
    }
    if (!opts_.repair)
      fail(r.message + repair_advice);
    end = repair(path, header, r);
    lost = true;
    return true;
  }

  void check_chain(const fs::path& prev, uint64_t prev_last, bool prev_lost, const fs::path& path,
                   uint64_t header) {
    if (header == prev_last)
      return;
    if (header > prev_last && prev_lost) {
      out_.notes.push_back("events " + std::to_string(prev_last + 1) + ".." + std::to_string(header)
                           + " were in the damaged part of " + name_of(prev) + " and are lost");
      return;
    }
    if (header > prev_last)
      fail("missing segment: " + name_of(prev) + " ends at seq " + std::to_string(prev_last)
           + " but the next one, " + name_of(path) + ", follows seq " + std::to_string(header)
           + ": the segment with events " + std::to_string(prev_last + 1) + ".."
           + std::to_string(header) + " is missing; restore it from a backup");
    fail(name_of(path) + " follows seq " + std::to_string(header) + " but " + name_of(prev)
         + " already goes up to seq " + std::to_string(prev_last)
         + ": the segments overlap; move the one that does not belong out of the data folder");
  }

  // Keeps every good record of a damaged segment: a clean copy under the
  // original name, the original moved aside. The records kept are exactly
  // those the replay applied (same acceptance rule, same starting seq).
  uint64_t repair(const fs::path& path, uint64_t header, const scan_result& damaged) {
    temp_file copy;
    status st = create_repair_temp(path, header, copy);
    uint64_t last = header;
    schemas::event_record ev;
    uint64_t kept = 0;
    std::string record;
    scan_result again;
    if (st.ok())
      st = scan_file(
        path, file_kind::segment,
        [&](uint64_t, std::string_view body) {
          std::string why = accept_event(body, last, ev);
          if (why.empty() && st.ok()) {
            record.clear();
            append_record(record, body);
            st = copy.append(record);
            ++kept;
          }
          return why;
        },
        again, on_damage::skip);
    const fs::path aside = damaged_path(path);
    if (st.ok())
      st = copy.commit(aside);
    if (!st.ok())
      fail(st.message() + " (while repairing " + name_of(path) + ")");
    out_.notes.push_back("repaired " + name_of(path) + ": kept " + std::to_string(kept)
                         + " good records; " + damaged.message + "; the damaged original is "
                         + name_of(aside));
    return copy.size();
  }

  const recovery_options& opts_;
  std::vector<file_info> segs_;
  recovered_state out_;
};

} // namespace

status recover(const recovery_options& opts, recovered_state& out) {
  try {
    out = recoverer(opts).run();
  } catch (const storage_error& e) {
    return e.cause();
  }
  return {};
}

status read_events(const std::vector<fs::path>& files,
                   const std::function<void(const schemas::event_record&)>& on_event) {
  std::optional<uint64_t> last;
  for (const auto& file : files) {
    scan_result r;
    status st = scan_file(
      file, file_kind::segment,
      [&](uint64_t, std::string_view body) {
        auto decoded = schemas::decode_event(body.data(), body.size());
        if (auto* why = std::get_if<std::string>(&decoded))
          return *why;
        auto& e = std::get<schemas::event_record>(decoded);
        if (last) {
          if (std::string why = order_problem(e, *last); !why.empty())
            return why;
        }
        last = e.seq;
        on_event(e);
        return std::string();
      },
      r);
    if (!st.ok())
      return st;
    if (r.damage != damage_kind::none)
      return status::error(r.message);
  }
  return {};
}

} // namespace lb::storage
