#include "actors/storage/log_reader.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "actors/storage/posix_file.hpp"

namespace lb::storage {

namespace {

// A read that failed below the scan; run() turns it back into a status.
struct read_failure {
  status why;
};

// A read-only window over a file, refilled from disk as the scan moves on,
// so that memory stays bounded whatever the file size. Every record fits in
// one window (capacity >= the largest record).
class file_window {
public:
  file_window(const posix_file& file, uint64_t size)
    : file_(file),
      size_(size),
      buf_(static_cast<std::size_t>(std::min<uint64_t>(size, capacity))) {}

  // The bytes [off, off + n); the caller ensures off + n <= size and
  // n <= record_header_size + max_record_body.
  const unsigned char* at(uint64_t off, std::size_t n) {
    if (off < start_ || off + n > start_ + len_)
      fill(off);
    return reinterpret_cast<const unsigned char*>(buf_.data()) + (off - start_);
  }

private:
  static constexpr uint64_t capacity = 4 * (record_header_size + uint64_t{max_record_body});

  void fill(uint64_t off) {
    const auto want = static_cast<std::size_t>(std::min<uint64_t>(buf_.size(), size_ - off));
    std::size_t got = 0;
    if (status st = file_.read_at(off, buf_.data(), want, got); !st.ok())
      throw read_failure{std::move(st)};
    if (got < want)
      throw read_failure{
        status::error(file_.path().string() + " shrank while it was read (at offset "
                      + std::to_string(off) + "): is another process writing to the data folder?")};
    start_ = off;
    len_ = want;
  }

  const posix_file& file_;
  uint64_t size_;
  std::vector<char> buf_;
  uint64_t start_ = 0;
  std::size_t len_ = 0;
};

// Why the record at `off` is bad, or empty when its framing and checksum hold
// (then `len` is its body length).
std::string check_record(file_window& win, uint64_t off, uint64_t size, uint32_t& len) {
  if (size - off < record_header_size)
    return "record header cut off: " + std::to_string(size - off) + " of "
           + std::to_string(record_header_size) + " bytes";
  const record_header h = parse_record_header(win.at(off, record_header_size));
  len = h.length;
  if (len == 0)
    return "length 0";
  if (len > max_record_body)
    return "length " + std::to_string(len) + " over the limit of "
           + std::to_string(max_record_body);
  if (len > size - off - record_header_size)
    return "length " + std::to_string(len) + " runs past the end of the file ("
           + std::to_string(size - off - record_header_size) + " bytes left)";
  if (body_checksum(win.at(off, record_header_size + len) + record_header_size, len) != h.checksum)
    return "checksum mismatch";
  return {};
}

// The first offset in [from, size) where a complete record with a valid
// checksum starts, or `size` if there is none.
uint64_t find_next_record(file_window& win, uint64_t from, uint64_t size) {
  for (uint64_t y = from; y + record_header_size < size; ++y) {
    const unsigned char* p = win.at(y, record_header_size + 1);
    const record_header h = parse_record_header(p);
    if (h.length == 0 || h.length > max_record_body || h.length > size - y - record_header_size
        || !can_start_body(p[record_header_size]))
      continue;
    const unsigned char* rec = win.at(y, record_header_size + h.length);
    if (body_checksum(rec + record_header_size, h.length) == h.checksum)
      return y;
  }
  return size;
}

class scanner {
public:
  scanner(const fs::path& file, file_kind kind, const record_fn& on_record, on_damage mode,
          scan_result& out)
    : file_(file), kind_(kind), on_record_(on_record), mode_(mode), r_(out) {}

  status run() {
    r_ = scan_result();
    posix_file f;
    if (status st = posix_file::open(file_, posix_file::mode::read, f); !st.ok())
      return st;
    if (status st = f.size(r_.size); !st.ok())
      return st;
    if (r_.size < file_header_size) {
      damage(damage_kind::empty_file, 0, 0,
             file_.string() + ": " + std::to_string(r_.size) + " bytes, shorter than the "
               + std::to_string(file_header_size)
               + "-byte header (a crash right after the file was created?)");
      return {};
    }
    try {
      file_window win(f, r_.size);
      if (read_header(win.at(0, file_header_size)))
        records(win);
    } catch (read_failure& e) {
      return std::move(e.why);
    }
    return {};
  }

private:
  bool read_header(const unsigned char* p) {
    const file_header_fields h = parse_file_header(p);
    r_.version = h.version;
    r_.header_seq = h.seq;
    const std::string what = kind_ == file_kind::segment ? "event-log segment" : "snapshot";
    if (h.magic != magic_of(kind_)) {
      damage(damage_kind::bad_header, 0, 0,
             file_.string() + ": not an lbd " + what + " (wrong magic at offset 0)");
      return false;
    }
    if (h.version > log_format_version) {
      damage(damage_kind::newer_version, 0, 0,
             file_.string() + ": format version " + std::to_string(h.version)
               + ", but this lbd reads only up to " + std::to_string(log_format_version)
               + "; run a newer lbd");
      return false;
    }
    if (h.version == 0 || h.header_size != file_header_size) {
      damage(damage_kind::bad_header, 0, 0,
             file_.string() + ": damaged header (version " + std::to_string(h.version)
               + ", header size " + std::to_string(h.header_size) + ", expected "
               + std::to_string(file_header_size) + ")");
      return false;
    }
    r_.good_end = file_header_size;
    return true;
  }

  void records(file_window& win) {
    const uint64_t size = r_.size;
    uint64_t off = file_header_size;
    while (off < size) {
      uint32_t len = 0;
      const std::string bad = check_record(win, off, size, len);
      if (bad.empty()) {
        const uint64_t next = off + record_header_size + len;
        const unsigned char* body = win.at(off, record_header_size + len) + record_header_size;
        std::string why;
        try {
          why = on_record_(off, std::string_view(reinterpret_cast<const char*>(body), len));
        } catch (const stop_scan&) {
          r_.stopped = true;
          return;
        }
        if (why.empty()) {
          ++r_.records;
          if (r_.damage == damage_kind::none)
            r_.good_end = next;
        } else {
          damage(damage_kind::corrupt, off, next, at(off) + " (" + why + ")");
          if (mode_ == on_damage::stop)
            return;
        }
        off = next;
        continue;
      }
      const uint64_t y = find_next_record(win, off + 1, size);
      if (y == size) {
        damage(damage_kind::torn_tail, off, 0,
               file_.string() + ": torn write at offset " + std::to_string(off) + " (" + bad + "; "
                 + std::to_string(size - off)
                 + " bytes to the end of the file, no good record after it)");
        return;
      }
      damage(damage_kind::corrupt, off, y,
             at(off) + " (" + bad + "; " + std::to_string(y - off)
               + " bytes up to the next good record at offset " + std::to_string(y) + ")");
      if (mode_ == on_damage::stop)
        return;
      off = y;
    }
  }

  std::string at(uint64_t off) const {
    return file_.string() + ": damaged record at offset " + std::to_string(off);
  }

  // The result describes the first damage only.
  void damage(damage_kind kind, uint64_t off, uint64_t resume, std::string message) {
    if (r_.damage != damage_kind::none)
      return;
    r_.damage = kind;
    r_.damage_offset = off;
    r_.resume_offset = resume;
    r_.message = std::move(message);
  }

  const fs::path& file_;
  file_kind kind_;
  const record_fn& on_record_;
  on_damage mode_;
  scan_result& r_;
};

} // namespace

status scan_file(const fs::path& file, file_kind kind, const record_fn& on_record, scan_result& out,
                 on_damage mode) {
  return scanner(file, kind, on_record, mode, out).run();
}

} // namespace lb::storage
