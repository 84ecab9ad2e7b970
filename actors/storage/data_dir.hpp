// The data folder (--data, docs/EVENT-LOG.md section 1): the one place that
// knows its file names, lists them, holds its LOCK, decides what may be
// deleted, and makes and clears its temporaries. Which of the files make up
// the state on start is recovery_plan.hpp's, which lists them through here.
//
//   events-<first seq, 20 digits>.log      an event-log segment
//   snapshot-<seq, 20 digits>.snap         a snapshot
//   snapshot-<seq>.snap.tmp                a snapshot being written
//   <segment>.repair.tmp                   a clean copy being written by --repair
//   <segment>.damaged, .damaged.1, ...     a damaged segment moved aside by --repair
//   LOCK                                   held by the service using the folder
//
// Numbers are zero-padded to 20 digits, so that a plain sort orders them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <vector>

#include "actors/storage/posix_file.hpp"
#include "actors/storage/status.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

// -- names ---------------------------------------------------------------------

fs::path segment_path(const fs::path& dir, uint64_t first_seq);
fs::path snapshot_path(const fs::path& dir, uint64_t seq);
// A name next to `segment` that is not taken: <name>.damaged, else
// <name>.damaged.1, ...
fs::path damaged_path(const fs::path& segment);

// -- listing -------------------------------------------------------------------

struct file_info {
  fs::path path;
  uint64_t seq = 0; // from the name: a segment's first seq, a snapshot's seq
};

struct data_files {
  std::vector<file_info> segments;  // sorted by seq, oldest first
  std::vector<file_info> snapshots; // sorted by seq, oldest first
};

// Every segment and snapshot in `dir` (a missing folder holds none). Other
// files, temporaries included, are not listed.
status list_files(const fs::path& dir, data_files& out);

// -- LOCK ----------------------------------------------------------------------

// Holds an exclusive flock on <dir>/LOCK for the life of the object. One
// service per data folder: two writers appending to one log would interleave
// records and break the seq order that recovery relies on.
class data_lock {
public:
  // Throws storage_error naming the folder when another process holds it.
  explicit data_lock(const fs::path& dir);

private:
  posix_file file_;
};

// -- retention -----------------------------------------------------------------

// Deletes the segments a snapshot at `seq` covers (all their records are at
// or before it: the next segment starts at seq + 1 or earlier), oldest first,
// stopping at `writing`, the segment the log writer appends to. The status
// names every file that could not be deleted.
status delete_covered_segments(const fs::path& dir, uint64_t seq, const fs::path& writing);

// Keeps the newest two snapshots and deletes the older ones: a damaged
// newest one still has one to fall back on, as long as the log reaches back
// to it. `covered` gets the older kept snapshot's seq, up to which segments
// may go; with fewer than two snapshots it stays empty and nothing changes.
status prune_snapshots(const fs::path& dir, std::optional<uint64_t>& covered);

// -- temporaries ---------------------------------------------------------------

// A new snapshot at `seq`, written to snapshot-<seq>.snap.tmp; commit()
// renames it to snapshot-<seq>.snap.
status create_snapshot_temp(const fs::path& dir, uint64_t seq, temp_file& out);

// A clean copy of `segment` (same header), written to <segment>.repair.tmp;
// commit(damaged_path(segment)) puts it in the segment's place.
status create_repair_temp(const fs::path& segment, uint64_t header_seq, temp_file& out);

// Removes the snapshot temporaries a crash left: nothing reads them.
status remove_leftover_temps(const fs::path& dir);

} // namespace lb::storage
