// Reading a file under --data record by record (docs/EVENT-LOG.md, sections
// 2 and 6), as LevelDB's db/log_reader: every record whose framing and
// checksum hold goes to a callback in file order, and what does not hold is
// damage, told apart as a torn tail (no good record after it: a write cut
// short by a crash) or corruption (good records after it). Memory stays
// bounded whatever the file size: a window of a few records slides over it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "actors/storage/log_format.hpp"
#include "actors/storage/status.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

enum class damage_kind {
  none,
  empty_file,    // no complete header (a crash right after creating the file)
  bad_header,    // wrong magic or header size
  newer_version, // written by a newer lbd; this build cannot read it
  torn_tail,     // a bad record with no good record after it: a cut-short write
  corrupt,       // a bad record with good records after it
};

struct scan_result {
  uint64_t size = 0; // of the file when it was opened
  uint64_t header_seq = 0;
  uint32_t version = 0;
  uint64_t records = 0;  // good records passed to the callback
  uint64_t good_end = 0; // offset just past the last good record before any damage
  bool stopped = false;  // the callback ended the scan (stop_scan)
  damage_kind damage = damage_kind::none;
  uint64_t damage_offset = 0; // where the first bad record starts
  uint64_t resume_offset = 0; // corrupt: where the next good record starts
  std::string message;        // for damage: file, offset and what is wrong
};

// Called for every record whose framing and checksum hold, in file order,
// with the record's offset. Returns its verdict on the body: empty to go on,
// or what is wrong with it, and the record then counts as damage (`corrupt`).
using record_fn = std::function<std::string(uint64_t offset, std::string_view body)>;

// Thrown by a record_fn to end the scan before the record it was given, as
// if the file ended there (lb-replay --until-seq): a verdict says what is
// wrong with a record, and this is not that.
struct stop_scan {};

enum class on_damage {
  stop, // at the first damage
  skip, // go on after each corrupt stretch (for --repair and inspect); the
        // result still describes the first damage
};

// Reads a whole file into `out`. Damage is part of the result; the status
// fails only when the file cannot be read at all.
status scan_file(const fs::path& file, file_kind kind, const record_fn& on_record, scan_result& out,
                 on_damage mode = on_damage::stop);

} // namespace lb::storage
