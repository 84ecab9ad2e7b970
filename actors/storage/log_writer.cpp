#include "actors/storage/log_writer.hpp"

#include <fstream>
#include <utility>

#include "actors/storage/data_dir.hpp"
#include "actors/storage/log_format.hpp"

namespace lb::storage {

log_writer::log_writer(fs::path dir, uint64_t segment_bytes)
  : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}

namespace {

// The version in a segment's header (0 if it cannot be read: then the file
// is simply continued, as before versions were looked at).
uint32_t header_version(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  unsigned char b[12] = {};
  if (!in.read(reinterpret_cast<char*>(b), sizeof b))
    return log_format_version;
  return static_cast<uint32_t>(b[8]) | static_cast<uint32_t>(b[9]) << 8
         | static_cast<uint32_t>(b[10]) << 16 | static_cast<uint32_t>(b[11]) << 24;
}

} // namespace

status log_writer::open(const fs::path& last, uint64_t good_end, uint64_t last_seq) {
  file_ = posix_file();
  last_seq_ = synced_seq_ = last_seq;
  if (last.empty())
    return start_segment();
  if (good_end < file_header_size)
    return status::error("cannot continue " + last.string() + " at offset "
                         + std::to_string(good_end)
                         + ": that is inside its header (a bug: recovery should have removed it)");
  posix_file f;
  if (status st = posix_file::open(last, posix_file::mode::write, f); !st.ok())
    return status::from_errno("cannot open " + last.string() + " to append to it", st.sys_errno());
  uint64_t size = 0;
  if (status st = f.size(size); !st.ok())
    return st;
  if (size < good_end)
    return status::error(last.string() + " has " + std::to_string(size) + " bytes, fewer than the "
                         + std::to_string(good_end)
                         + " recovery read: is another process writing to the data folder?");
  if (size > good_end) {
    // Drop a torn tail for good before appending after it: a tail left on
    // disk would sit between good records and read as corruption.
    status st = f.truncate(good_end);
    if (st.ok())
      st = f.sync();
    if (!st.ok())
      return st;
  }
  std::shared_ptr<posix_file> second;
  if (status st = open_second(last, second); !st.ok())
    return st;
  file_ = std::move(f);
  sync_file_ = std::move(second);
  tail_dirty_ = false;
  offset_ = synced_ = good_end;
  // A full segment with no record cannot be rolled (its successor would get
  // the same name); it simply takes a few records more. A segment of an
  // older format version is not appended to either: its header would claim
  // that records of this version (a rollover) are of the old one.
  if ((full() || header_version(last) < log_format_version) && offset_ > file_header_size)
    return roll();
  return {};
}

status log_writer::write(std::string_view records, uint64_t last_seq) {
  if (!file_.is_open())
    return not_open();
  if (records.empty())
    return {};
  if (status st = cut_dirty_tail(); !st.ok())
    return st;
  status st = file_.write_at(offset_, records);
  if (st.ok()) {
    offset_ += records.size();
    last_seq_ = last_seq;
    return {};
  }
  if (status cut = file_.truncate(offset_); !cut.ok()) {
    // Part of the refused records may stay past offset(): the next write
    // (or roll) cuts them off first, or fails, so none of them is ever read
    // back as an event, nor its seq taken twice.
    tail_dirty_ = true;
    return st.noted("; cutting the partial write off failed too: " + errno_text(cut.sys_errno()));
  }
  return st;
}

status log_writer::cut_dirty_tail() {
  if (!tail_dirty_)
    return {};
  if (status st = file_.truncate(offset_); !st.ok())
    return st.noted(" (bytes of a refused write are still past the last record)");
  tail_dirty_ = false;
  return {};
}

status log_writer::sync() {
  if (!file_.is_open())
    return not_open();
  if (status st = file_.sync(); !st.ok())
    return st;
  synced_ = offset_;
  synced_seq_ = last_seq_;
  return {};
}

status log_writer::truncate_to(uint64_t offset) {
  if (!file_.is_open())
    return not_open();
  if (status st = file_.truncate(offset); !st.ok())
    return st;
  tail_dirty_ = false;
  offset_ = offset;
  if (offset_ <= synced_) {
    synced_ = offset_;
    last_seq_ = synced_seq_;
  }
  return {};
}

status log_writer::roll() {
  if (!file_.is_open())
    return not_open();
  if (offset_ <= file_header_size)
    return {}; // nothing in it yet: keep using it
  // A finished segment ends with its last record: what follows it is the
  // next segment's.
  if (status st = cut_dirty_tail(); !st.ok())
    return st;
  if (status st = sync(); !st.ok())
    return st;
  return start_segment();
}

status log_writer::not_open() const {
  return status::error("the event log is not open (" + dir_.string() + ")");
}

// Creates events-<last_seq_ + 1>.log with its header, durable (file and
// folder synced) before any record goes into it, and its second descriptor
// (sync_handle), so that running out of descriptors fails the roll, not a
// later sync; on failure nothing changes.
status log_writer::start_segment() {
  const fs::path path = segment_path(dir_, last_seq_ + 1);
  posix_file f;
  if (status st = posix_file::open(path, posix_file::mode::create_new, f); !st.ok())
    return st;
  std::shared_ptr<posix_file> second;
  status st = f.write_at(0, file_header(file_kind::segment, last_seq_));
  if (st.ok())
    st = f.sync();
  if (st.ok())
    st = sync_dir(dir_);
  if (st.ok())
    st = open_second(path, second);
  if (!st.ok()) {
    f = posix_file();
    static_cast<void>(remove_file(path)); // the failure above is the one to report
    return st;
  }
  file_ = std::move(f);
  sync_file_ = std::move(second);
  tail_dirty_ = false;
  offset_ = synced_ = file_header_size;
  synced_seq_ = last_seq_;
  return {};
}

status log_writer::sync_handle(std::shared_ptr<posix_file>& out) {
  if (!file_.is_open())
    return not_open();
  if (!sync_file_)
    if (status st = open_second(file_.path(), sync_file_); !st.ok())
      return st;
  out = sync_file_;
  return {};
}

status log_writer::open_second(const fs::path& path, std::shared_ptr<posix_file>& out) {
  auto f = std::make_shared<posix_file>();
  if (status st = posix_file::open(path, posix_file::mode::write, *f); !st.ok())
    return st;
  out = std::move(f);
  return {};
}

} // namespace lb::storage
