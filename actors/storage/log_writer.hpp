// Writing the event log (docs/EVENT-LOG.md, section 3), as LevelDB's
// db/log_writer: framed records are appended to the newest segment, made
// durable with fdatasync, and a new segment starts at the size limit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include <string_view>

#include "actors/storage/log_format.hpp" // write() takes records framed by append_record
#include "actors/storage/posix_file.hpp"
#include "actors/storage/status.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

// The one writer of a data folder's log, used by one actor only.
// Invariants: the open segment holds a synced header followed by whole
// records only, up to offset() (a failed call leaves the file as it was
// before it, so no partial record stays behind); synced_offset() <= offset();
// last_seq() is the seq of the last record written (or what the segment's
// header says came before it), synced_seq that of the last synced one.
class log_writer {
public:
  log_writer(fs::path dir, uint64_t segment_bytes);

  // Continues `last` (the newest segment, cut back to `good_end`, its last
  // good record) or, when `last` is empty or full, starts a new segment after
  // `last_seq`.
  status open(const fs::path& last, uint64_t good_end, uint64_t last_seq);

  // Writes framed records whose last seq is `last_seq`. On failure cuts the
  // file back to where it was; if even that fails, the next write or roll
  // cuts first and fails while it cannot, so no byte of a refused write is
  // ever followed by a record. The status keeps the write's errno.
  status write(std::string_view records, uint64_t last_seq);
  // fdatasync. On failure the caller drops what was written since the last
  // good sync with truncate_to(synced_offset()): the kernel may have dropped
  // those pages.
  status sync();
  status truncate_to(uint64_t offset);
  // Syncs the full segment and starts the next one (its header synced and
  // the folder synced). On failure stays on the current segment.
  status roll();

  // A second descriptor of the current segment, for another thread to
  // fdatasync what this writer wrote (the log actor); it stays valid after
  // a roll. One per segment, opened with it (a segment that cannot have one,
  // for want of descriptors, is not started).
  status sync_handle(std::shared_ptr<posix_file>& out);

  bool full() const { return offset_ >= segment_bytes_; }
  uint64_t offset() const { return offset_; }
  uint64_t synced_offset() const { return synced_; }
  uint64_t last_seq() const { return last_seq_; }
  const fs::path& current() const { return file_.path(); }

private:
  status not_open() const;
  status start_segment();
  status cut_dirty_tail();
  static status open_second(const fs::path& path, std::shared_ptr<posix_file>& out);

  fs::path dir_;
  uint64_t segment_bytes_;
  posix_file file_;
  std::shared_ptr<posix_file> sync_file_; // of file_, or none yet
  uint64_t offset_ = 0;
  uint64_t synced_ = 0;
  uint64_t last_seq_ = 0;
  uint64_t synced_seq_ = 0;
  bool tail_dirty_ = false; // bytes of a refused write may be past offset_
};

} // namespace lb::storage
