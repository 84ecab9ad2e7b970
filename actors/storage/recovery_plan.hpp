// Which files of a data folder make up its state, and what is wrong with
// them: decided here and nowhere else, by reading the folder without
// changing any file (docs/EVENT-LOG.md, "Recovery"). Recovery (recovery.hpp)
// carries out the changes a plan asks for; lb-replay reads a folder through
// the same plan and changes nothing, so that the two never disagree on what
// a folder holds (as Redis's AOF manifest is the one word on its files).
//
// A plan is made in one pass over the files, and that pass also hands the
// caller the state they hold: the only way to know that a snapshot or a
// record reads back is to read all of it, and reading the files twice (once
// to plan, once to load) would add a third or more to the time to start.
//
// 1. The log reaches back to seq L, the header seq of the oldest segment
//    (with no segment, the newest snapshot's seq). A snapshot at S can be
//    continued when L <= S. The newest such snapshot that loads is the start;
//    a damaged one is skipped, and the next older one tried. Without one,
//    the state starts empty, which needs L = 0.
// 2. The segments after the start are read in order (those wholly at or
//    before it are not); each event after the start goes to the caller.
// 3. Damage decides what happens to each file (segment_action), or stops
//    the plan (plan_stop).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "actors/storage/data_dir.hpp"
#include "actors/storage/event_reader.hpp"
#include "actors/storage/replay_state.hpp"
#include "actors/storage/snapshot_file.hpp"
#include "actors/storage/status.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

struct plan_options {
  fs::path dir;
  // Damage that only a rewrite gets past: plan repairs (segment_action::
  // repair) instead of stopping.
  bool repair = false;
  // The state wanted is the one after this seq (lb-replay --until-seq): no
  // snapshot after it is used, and the plan ends before the first record
  // after it. Past that, the plan has not looked.
  uint64_t until_seq = std::numeric_limits<uint64_t>::max();
  // false: no snapshot; the log from its oldest segment, whether or not it
  // starts at seq 0 (lb-replay send, which cannot replay a snapshot).
  bool use_snapshots = true;
  // Called now and then with a line for the operator (a long read shows
  // progress); may be empty.
  std::function<void(const std::string&)> progress;
};

enum class segment_action {
  read,     // every record is good
  cut_tail, // the newest segment ends in a torn tail: recovery cuts it off
  remove,   // the newest segment has no complete header: recovery deletes it
  repair,   // damaged (only with plan_options::repair): recovery writes a
            // copy of its good records in its place, the file moved aside
};

struct planned_segment {
  file_info file;
  uint64_t header_seq = 0; // the last seq before it
  uint64_t last_seq = 0;   // of its last good record (header_seq: none)
  uint64_t records = 0;    // good records
  uint64_t size = 0;       // bytes, when it was read
  // Where its records end once the action is done: the file's size (read),
  // its last good record's end (cut_tail), the size of the clean copy
  // (repair).
  uint64_t end = 0;
  segment_action action = segment_action::read;
  uint64_t damage_offset = 0; // cut_tail, repair: where the damage starts
  std::string damage;         // cut_tail, remove, repair: what the scan found
  // After a repair of the segment before this one: the first seq that was in
  // its damaged part and is lost, up to header_seq.
  std::optional<uint64_t> lost_from;
};

struct skipped_snapshot {
  fs::path file;
  std::string why;
};

// Why the folder cannot be read as it is.
struct plan_stop {
  enum class kind {
    damage,   // damage that plan_options::repair gets past; `message` has
              // no advice, each reader adds its own
    history,  // no snapshot the log continues, and it does not start at 0
    unusable, // anything else; `message` says what to do
  };
  kind what = kind::unusable;
  std::string message;
};

// Invariants, unless `stop` is set: `segments` are consecutive in the
// listing, from the first one the start needs; each one's header_seq is the
// last_seq of the one before, except where lost_from says that a repair lost
// the events between; only the newest may be cut_tail or remove; repair
// appears only with plan_options::repair.
struct recovery_plan {
  data_files files;       // the folder as listed
  uint64_t log_start = 0; // the oldest segment's header seq (no segment: the newest snapshot's)
  std::optional<file_info> snapshot;     // loaded; none: the state starts empty
  std::vector<skipped_snapshot> skipped; // newer ones that did not load
  std::vector<planned_segment> segments; // read, oldest first
  uint64_t events = 0;                   // passed on, after the snapshot
  // Where the log ends (for its writer): the newest segment kept, the end of
  // its last good record, and the last seq the log holds (the newest record,
  // or what the newest header says came before it). log_last_seq can be
  // below the snapshot's seq when the snapshot's was an event the log never
  // got (a refused one).
  fs::path last_segment; // empty: there is none
  uint64_t last_segment_end = 0;
  uint64_t log_last_seq = 0;
  // Set when the folder cannot be read as it is; the rest of the plan then
  // describes what was read before the plan stopped.
  std::optional<plan_stop> stop;

  uint64_t snapshot_seq() const { return snapshot ? snapshot->seq : 0; }
};

// Makes the plan for `opts.dir`, changing no file. `state` (one empty
// replay_state per shard, at least one; unused without snapshots) gets the
// snapshot the plan starts from, and `on_event` every event after it, in
// seq order. The status fails only when a file cannot be read at all; what
// the files hold, damage included, is in the plan.
status plan_recovery(const plan_options& opts, std::vector<replay_state>& state,
                     const event_fn& on_event, recovery_plan& out);

} // namespace lb::storage
