// Rebuilds the state from the data folder on start (PROTOCOL.md "Events"):
// the plan (recovery_plan.hpp) reads the newest readable snapshot and every
// logged event after it, each routed to the shard that owns it under the
// current shard count; then the changes the plan asks for are made.
//
// What may be wrong with the files, and what happens (docs/EVENT-LOG.md):
// - a torn tail of the newest segment (a crash mid-write) is cut off, and an
//   empty newest segment removed, each reported in `notes`;
// - a damaged snapshot is skipped for an older one (or none) if the log still
//   reaches back far enough, else start fails;
// - damage anywhere else, a missing segment (its successor's header seq does
//   not match), seqs out of order, or a file of a newer format: start fails
//   with a message naming the file and offset, unless `repair`, which keeps
//   every good record, moves the damaged file aside as <name>.damaged and
//   writes a clean copy in its place.
// No file changes unless the plan covers the whole folder; the changes it
// asks for are then made in order, so an I/O error part way leaves the ones
// before it done (each is safe on its own: a cut, a removal, a repair that
// keeps the original aside).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "actors/storage/replay_state.hpp"
#include "actors/storage/status.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

struct recovery_options {
  fs::path dir;
  uint32_t shards = 1;
  bool repair = false;
  // Called now and then with a line for the operator (a long replay shows
  // progress); may be empty.
  std::function<void(const std::string&)> progress;
};

struct recovered_state {
  std::vector<replay_state> shards; // one per shard
  uint64_t last_seq = 0;            // the last event applied (0: none)
  // The last seq the log itself holds (the newest record, or what the newest
  // segment's header says came before it). It can be below last_seq when the
  // snapshot's seq was an event the log never got (a refused one). Pass this,
  // not last_seq, to log_writer::open: a new segment's header must name the
  // last record before it, or the next full replay sees a missing segment.
  uint64_t log_last_seq = 0;
  uint64_t snapshot_seq = 0; // the snapshot started from (0: none)
  uint64_t events = 0;       // events replayed after it
  // Where the log writer continues: the newest segment and the end of its
  // last good record (empty path: no segment yet).
  fs::path last_segment;
  uint64_t last_segment_end = 0;
  std::vector<std::string> notes; // what was cut, skipped or repaired
};

// Fails when the folder cannot be recovered (see above).
status recover(const recovery_options& opts, recovered_state& out);

} // namespace lb::storage
