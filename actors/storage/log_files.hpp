// The files under --data (docs/EVENT-LOG.md): event-log segments and
// snapshots share one framing.
//
//   file   = header, record*
//   header = magic (8 bytes), version (u32 LE), header size (u32 LE, 24),
//            seq (u64 LE: a segment's is the last seq logged before it,
//            a snapshot's the last seq it includes)
//   record = body length (u32 LE, 1..max_record_body), XXH3-64 of the body
//            (u64 LE, seed 0), body (msgpack: schemas/event_record.hpp,
//            schemas/snapshot_record.hpp)
//
// Segments are named events-<first seq, 20 digits>.log and snapshots
// snapshot-<seq, 20 digits>.snap, so that a plain sort orders them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lb::storage {

namespace fs = std::filesystem;

inline constexpr uint32_t log_format_version = 1;
inline constexpr uint32_t file_header_size = 24;
inline constexpr uint32_t max_record_body = 1 << 20;
inline constexpr uint32_t record_header_size = 12;

enum class file_kind { segment, snapshot };

// A file that cannot be used; the message names the file, the offset where
// it matters, and what to do.
struct storage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Appends one framed record (length, checksum, body) to `out`.
void append_record(std::string& out, std::string_view body);
// The 24-byte header of a new file.
std::string file_header(file_kind kind, uint64_t seq);

fs::path segment_path(const fs::path& dir, uint64_t first_seq);
fs::path snapshot_path(const fs::path& dir, uint64_t seq);

struct file_info {
  fs::path path;
  uint64_t seq = 0; // from the name: a segment's first seq, a snapshot's seq
};
// Sorted by seq, oldest first. Ignores other files (temporaries included).
std::vector<file_info> list_segments(const fs::path& dir);
std::vector<file_info> list_snapshots(const fs::path& dir);

enum class damage_kind {
  none,
  empty_file,    // no complete header (a crash right after creating the file)
  bad_header,    // wrong magic or header size
  newer_version, // written by a newer lbd; this build cannot read it
  torn_tail,     // a bad record with no good record after it: a cut-short write
  corrupt,       // a bad record with good records after it
};

struct scan_result {
  uint64_t header_seq = 0;
  uint32_t version = 0;
  uint64_t records = 0;  // good records passed to the callback
  uint64_t good_end = 0; // offset just past the last good record before any damage
  damage_kind damage = damage_kind::none;
  uint64_t damage_offset = 0; // where the first bad record starts
  uint64_t resume_offset = 0; // corrupt: where the next good record starts
  std::string message;        // for damage: file, offset and what is wrong
};

// Called for every record whose framing and checksum hold, in file order,
// with the record's offset. Returns an empty string to go on, or what is
// wrong with the body: the record then counts as damage (`corrupt`).
using record_fn = std::function<std::string(uint64_t offset, std::string_view body)>;

// Reads a whole file. Stops at the first damage unless `skip_damage`, in
// which case it goes on after each corrupt stretch (for --repair; the result
// then describes the first damage). Throws storage_error only when the file
// cannot be read at all.
scan_result scan_file(const fs::path& file, file_kind kind, const record_fn& on_record,
                      bool skip_damage = false);

// Writes the event log: appends to the newest segment and starts a new one
// at the size limit. Used by one actor only. Every failure is returned as a
// message (nothing throws after open) and leaves the file as it was before
// the failed call, so no partial record stays behind.
class segment_writer {
public:
  segment_writer(fs::path dir, uint64_t segment_bytes);
  ~segment_writer();
  segment_writer(const segment_writer&) = delete;
  segment_writer& operator=(const segment_writer&) = delete;

  // Continues `last` (the newest segment, cut back to `good_end`, its last
  // good record) or, when `last` is empty or full, starts a new segment after
  // `last_seq`. Throws storage_error.
  void open(const fs::path& last, uint64_t good_end, uint64_t last_seq);

  // Writes framed records whose last seq is `last_seq` (write(2) until every
  // byte is written). On failure cuts the file back and returns why.
  std::string write(std::string_view records, uint64_t last_seq);
  // fdatasync. On failure returns why; the caller then drops what was
  // written since the last good sync with truncate_to(synced_offset()).
  std::string sync();
  std::string truncate_to(uint64_t offset);
  // Syncs the full segment and starts the next one (its header synced and
  // the folder synced). On failure stays on the current segment.
  std::string roll();

  bool full() const { return offset_ >= segment_bytes_; }
  uint64_t offset() const { return offset_; }
  uint64_t synced_offset() const { return synced_; }
  uint64_t last_seq() const { return last_seq_; }
  const fs::path& current() const { return path_; }

private:
  std::string start_segment();

  fs::path dir_;
  uint64_t segment_bytes_;
  fs::path path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  uint64_t synced_ = 0;
  uint64_t last_seq_ = 0;
  uint64_t synced_seq_ = 0;
};

// fsyncs a folder, so that a created, renamed or deleted name in it lasts.
std::string sync_dir(const fs::path& dir);

// A temporary file written front to back and then put in place by its owner
// (a snapshot, a segment rewritten by --repair). Records gather in memory and
// go out with write(2) once about 1 MiB has gathered: few system calls,
// bounded memory. Each call returns 0 or the errno of the failure, so that
// callers word their own messages. Unless keep() was called, the destructor
// removes the file it created, so an error anywhere (a bad_alloc included)
// leaves nothing behind.
class temp_file_writer {
public:
  explicit temp_file_writer(fs::path path) : path_(std::move(path)) {}
  ~temp_file_writer();
  temp_file_writer(const temp_file_writer&) = delete;
  temp_file_writer& operator=(const temp_file_writer&) = delete;

  // Creates the file (emptying a leftover of the same name) and queues
  // `header` as its first bytes.
  int create(std::string_view header);
  // Queues one framed record; writes what has gathered once it is large.
  int add(std::string_view body);
  // Writes everything queued (until every byte is written).
  int flush();
  // fdatasync of what was flushed.
  int sync();
  int close();
  // The file stays: its owner renamed it into place.
  void keep() { kept_ = true; }

  const fs::path& path() const { return path_; }
  // Bytes written to the file so far.
  uint64_t written() const { return written_; }

private:
  fs::path path_;
  int fd_ = -1;
  bool created_ = false;
  bool kept_ = false;
  std::string buf_;
  uint64_t written_ = 0;
};

} // namespace lb::storage
