// The byte layout of the files under --data (docs/EVENT-LOG.md, section 2):
// event-log segments and snapshots share one framing.
//
//   file   = header, record*
//   header = magic (8 bytes), version (u32 LE), header size (u32 LE, 24),
//            seq (u64 LE: a segment's is the last seq logged before it,
//            a snapshot's the last seq it includes)
//   record = body length (u32 LE, 1..max_record_body), XXH3-64 of the body
//            (u64 LE, seed 0), body (msgpack: schemas/event_record.hpp,
//            schemas/snapshot_record.hpp)
//
// Which files exist and what they are named is data_dir.hpp's; reading them
// is log_reader.hpp's, appending to a segment log_writer.hpp's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lb::storage {

// 2: seasons (the `rollover` event and the snapshot's `season` record,
// which version 1 readers would take for damage). Version 1 files read as
// before.
inline constexpr uint32_t log_format_version = 2;
inline constexpr uint32_t file_header_size = 24;
inline constexpr uint32_t max_record_body = 1 << 20;
inline constexpr uint32_t record_header_size = 12;

enum class file_kind { segment, snapshot };

std::string_view magic_of(file_kind kind);

// The 24-byte header of a new file.
std::string file_header(file_kind kind, uint64_t seq);

// Appends one framed record (length, checksum, body) to `out`. Throws
// storage_error for a body outside 1..max_record_body (status.hpp says why).
void append_record(std::string& out, std::string_view body);

// A file header as it reads, before any check.
struct file_header_fields {
  std::string_view magic;
  uint32_t version = 0;
  uint32_t header_size = 0;
  uint64_t seq = 0;
};
// `p` points at file_header_size bytes; `magic` points into them.
file_header_fields parse_file_header(const unsigned char* p);

// A record header as it reads, before any check.
struct record_header {
  uint32_t length = 0;
  uint64_t checksum = 0;
};
// `p` points at record_header_size bytes.
record_header parse_record_header(const unsigned char* p);

uint64_t body_checksum(const unsigned char* body, std::size_t n);

// Whether `first` can start a body: every body is a msgpack map, so a reader
// searching a damaged stretch for the next record skips other positions
// without hashing.
bool can_start_body(unsigned char first);

// The wall clock as records carry it (`time_ms` of events and snapshots):
// milliseconds since the Unix epoch.
int64_t wall_clock_ms();

} // namespace lb::storage
