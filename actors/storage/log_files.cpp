// Framing, scanning and appending of the files under --data
// (docs/EVENT-LOG.md has the byte layout and what recovery does with damage).
#include "actors/storage/log_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

namespace lb::storage {

namespace {

constexpr std::string_view segment_magic = "LBDEVLOG";
constexpr std::string_view snapshot_magic = "LBDSNAPS";
constexpr std::string_view segment_prefix = "events-";
constexpr std::string_view segment_suffix = ".log";
constexpr std::string_view snapshot_prefix = "snapshot-";
constexpr std::string_view snapshot_suffix = ".snap";
constexpr std::size_t seq_digits = 20;

std::string_view magic_of(file_kind kind) {
  return kind == file_kind::segment ? segment_magic : snapshot_magic;
}

void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}

void put_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i)
    b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}

uint32_t get_u32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

uint64_t get_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | p[i];
  return v;
}

std::string errno_text(int e) {
  return std::strerror(e);
}

std::string quoted(const fs::path& p) {
  return p.string();
}

std::string file_name(std::string_view prefix, uint64_t seq, std::string_view suffix) {
  char digits[seq_digits + 1];
  std::snprintf(digits, sizeof digits, "%020llu", static_cast<unsigned long long>(seq));
  std::string name(prefix);
  name += digits;
  name += suffix;
  return name;
}

// The seq in a name of the form <prefix><20 digits><suffix>, if it is one.
bool parse_name(std::string_view name, std::string_view prefix, std::string_view suffix,
                uint64_t& seq) {
  if (name.size() != prefix.size() + seq_digits + suffix.size())
    return false;
  if (name.substr(0, prefix.size()) != prefix || name.substr(name.size() - suffix.size()) != suffix)
    return false;
  uint64_t v = 0;
  for (std::size_t i = 0; i < seq_digits; ++i) {
    const char c = name[prefix.size() + i];
    if (c < '0' || c > '9')
      return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10)
      return false;
    v = v * 10 + d;
  }
  seq = v;
  return true;
}

std::vector<file_info> list_files(const fs::path& dir, std::string_view prefix,
                                  std::string_view suffix) {
  std::vector<file_info> out;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory)
    return out;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    uint64_t seq = 0;
    if (parse_name(it->path().filename().native(), prefix, suffix, seq))
      out.push_back({it->path(), seq});
  }
  if (ec)
    throw storage_error("cannot list " + quoted(dir) + ": " + ec.message());
  std::sort(out.begin(), out.end(),
            [](const file_info& a, const file_info& b) { return a.seq < b.seq; });
  return out;
}

struct fd_holder {
  int fd = -1;
  explicit fd_holder(int f) : fd(f) {}
  fd_holder(const fd_holder&) = delete;
  fd_holder& operator=(const fd_holder&) = delete;
  ~fd_holder() {
    if (fd >= 0)
      ::close(fd);
  }
};

// Reads up to n bytes at off; fewer only at the end of the file. Returns -1
// with errno set on failure.
ssize_t pread_full(int fd, char* buf, std::size_t n, uint64_t off) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0)
      break;
    got += static_cast<std::size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

// Writes all n bytes at off. Returns 0 or the errno of the failure.
int pwrite_full(int fd, const char* data, std::size_t n, uint64_t off) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pwrite(fd, data + done, n - done, static_cast<off_t>(off + done));
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (r == 0)
      return EIO; // no progress and no error: do not spin
    done += static_cast<std::size_t>(r);
  }
  return 0;
}

int fdatasync_retry(int fd) {
  for (;;) {
    if (::fdatasync(fd) == 0)
      return 0;
    if (errno != EINTR)
      return errno;
  }
}

int ftruncate_retry(int fd, uint64_t size) {
  for (;;) {
    if (::ftruncate(fd, static_cast<off_t>(size)) == 0)
      return 0;
    if (errno != EINTR)
      return errno;
  }
}

// A read-only window over a file, refilled from disk as the scan moves on,
// so that memory stays bounded whatever the file size. Every record fits in
// one window (capacity >= the largest record).
class file_window {
public:
  file_window(int fd, uint64_t size, const fs::path& path)
    : fd_(fd),
      size_(size),
      path_(path),
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
    const ssize_t got = pread_full(fd_, buf_.data(), want, off);
    if (got < 0)
      throw storage_error("cannot read " + quoted(path_) + " at offset " + std::to_string(off)
                          + ": " + errno_text(errno));
    if (static_cast<std::size_t>(got) < want)
      throw storage_error(quoted(path_) + " shrank while it was read (at offset "
                          + std::to_string(off)
                          + "): is another process writing to the data folder?");
    start_ = off;
    len_ = want;
  }

  int fd_;
  uint64_t size_;
  const fs::path& path_;
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
  const unsigned char* h = win.at(off, record_header_size);
  len = get_u32(h);
  const uint64_t sum = get_u64(h + 4);
  if (len == 0)
    return "length 0";
  if (len > max_record_body)
    return "length " + std::to_string(len) + " over the limit of "
           + std::to_string(max_record_body);
  if (len > size - off - record_header_size)
    return "length " + std::to_string(len) + " runs past the end of the file ("
           + std::to_string(size - off - record_header_size) + " bytes left)";
  if (XXH3_64bits(win.at(off, record_header_size + len) + record_header_size, len) != sum)
    return "checksum mismatch";
  return {};
}

// Every body is a msgpack map (docs/EVENT-LOG.md); checking its first byte
// before hashing keeps the search through a long damaged stretch fast.
bool starts_map(unsigned char b) {
  return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

// The first offset in [from, size) where a complete record with a valid
// checksum starts, or `size` if there is none.
uint64_t find_next_record(file_window& win, uint64_t from, uint64_t size) {
  for (uint64_t y = from; y + record_header_size < size; ++y) {
    const unsigned char* p = win.at(y, record_header_size + 1);
    const uint32_t len = get_u32(p);
    if (len == 0 || len > max_record_body || len > size - y - record_header_size
        || !starts_map(p[record_header_size]))
      continue;
    const unsigned char* rec = win.at(y, record_header_size + len);
    if (XXH3_64bits(rec + record_header_size, len) == get_u64(rec + 4))
      return y;
  }
  return size;
}

class scanner {
public:
  scanner(const fs::path& file, file_kind kind, const record_fn& on_record, bool skip_damage)
    : file_(file), kind_(kind), on_record_(on_record), skip_damage_(skip_damage) {}

  scan_result run() {
    fd_holder fd(::open(file_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.fd < 0)
      throw storage_error("cannot open " + quoted(file_) + ": " + errno_text(errno));
    struct stat st {};
    if (::fstat(fd.fd, &st) != 0)
      throw storage_error("cannot stat " + quoted(file_) + ": " + errno_text(errno));
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size < file_header_size) {
      damage(damage_kind::empty_file, 0, 0,
             quoted(file_) + ": " + std::to_string(size) + " bytes, shorter than the "
               + std::to_string(file_header_size)
               + "-byte header (a crash right after the file was created?)");
      return r_;
    }
    file_window win(fd.fd, size, file_);
    if (!read_header(win.at(0, file_header_size)))
      return r_;
    records(win, size);
    return r_;
  }

private:
  bool read_header(const unsigned char* h) {
    const std::string_view magic(reinterpret_cast<const char*>(h), 8);
    r_.version = get_u32(h + 8);
    const uint32_t header_size = get_u32(h + 12);
    r_.header_seq = get_u64(h + 16);
    const std::string what = kind_ == file_kind::segment ? "event-log segment" : "snapshot";
    if (magic != magic_of(kind_)) {
      damage(damage_kind::bad_header, 0, 0,
             quoted(file_) + ": not an lbd " + what + " (wrong magic at offset 0)");
      return false;
    }
    if (r_.version > log_format_version) {
      damage(damage_kind::newer_version, 0, 0,
             quoted(file_) + ": format version " + std::to_string(r_.version)
               + ", but this lbd reads only up to " + std::to_string(log_format_version)
               + "; run a newer lbd");
      return false;
    }
    if (r_.version == 0 || header_size != file_header_size) {
      damage(damage_kind::bad_header, 0, 0,
             quoted(file_) + ": damaged header (version " + std::to_string(r_.version)
               + ", header size " + std::to_string(header_size) + ", expected "
               + std::to_string(file_header_size) + ")");
      return false;
    }
    r_.good_end = file_header_size;
    return true;
  }

  void records(file_window& win, uint64_t size) {
    uint64_t off = file_header_size;
    while (off < size) {
      uint32_t len = 0;
      const std::string bad = check_record(win, off, size, len);
      if (bad.empty()) {
        const uint64_t next = off + record_header_size + len;
        const unsigned char* body = win.at(off, record_header_size + len) + record_header_size;
        const std::string why
          = on_record_(off, std::string_view(reinterpret_cast<const char*>(body), len));
        if (why.empty()) {
          ++r_.records;
          if (r_.damage == damage_kind::none)
            r_.good_end = next;
        } else {
          damage(damage_kind::corrupt, off, next, at(off) + " (" + why + ")");
          if (!skip_damage_)
            return;
        }
        off = next;
        continue;
      }
      const uint64_t y = find_next_record(win, off + 1, size);
      if (y == size) {
        damage(damage_kind::torn_tail, off, 0,
               quoted(file_) + ": torn write at offset " + std::to_string(off) + " (" + bad + "; "
                 + std::to_string(size - off)
                 + " bytes to the end of the file, no good record after it)");
        return;
      }
      damage(damage_kind::corrupt, off, y,
             at(off) + " (" + bad + "; " + std::to_string(y - off)
               + " bytes up to the next good record at offset " + std::to_string(y) + ")");
      if (!skip_damage_)
        return;
      off = y;
    }
  }

  std::string at(uint64_t off) const {
    return quoted(file_) + ": damaged record at offset " + std::to_string(off);
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
  bool skip_damage_;
  scan_result r_;
};

} // namespace

void append_record(std::string& out, std::string_view body) {
  if (body.empty() || body.size() > max_record_body)
    throw storage_error("a record body of " + std::to_string(body.size()) + " bytes is outside 1.."
                        + std::to_string(max_record_body) + " (a bug in the writer)");
  put_u32(out, static_cast<uint32_t>(body.size()));
  put_u64(out, XXH3_64bits(body.data(), body.size()));
  out.append(body);
}

std::string file_header(file_kind kind, uint64_t seq) {
  std::string h(magic_of(kind));
  put_u32(h, log_format_version);
  put_u32(h, file_header_size);
  put_u64(h, seq);
  return h;
}

fs::path segment_path(const fs::path& dir, uint64_t first_seq) {
  return dir / file_name(segment_prefix, first_seq, segment_suffix);
}

fs::path snapshot_path(const fs::path& dir, uint64_t seq) {
  return dir / file_name(snapshot_prefix, seq, snapshot_suffix);
}

std::vector<file_info> list_segments(const fs::path& dir) {
  return list_files(dir, segment_prefix, segment_suffix);
}

std::vector<file_info> list_snapshots(const fs::path& dir) {
  return list_files(dir, snapshot_prefix, snapshot_suffix);
}

scan_result scan_file(const fs::path& file, file_kind kind, const record_fn& on_record,
                      bool skip_damage) {
  return scanner(file, kind, on_record, skip_damage).run();
}

std::string sync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return "cannot open the folder " + quoted(dir) + " to sync it: " + errno_text(errno);
  int err = 0;
  while (::fsync(fd) != 0) {
    if (errno != EINTR) {
      err = errno;
      break;
    }
  }
  ::close(fd);
  if (err)
    return "cannot fsync the folder " + quoted(dir) + ": " + errno_text(err);
  return {};
}

// ---------------------------------------------------------------------------
// temp_file_writer

namespace {
// Bytes gathered before a write(2).
constexpr std::size_t temp_flush_bytes = 1 << 20;
} // namespace

temp_file_writer::~temp_file_writer() {
  if (fd_ >= 0)
    ::close(fd_);
  if (created_ && !kept_)
    ::unlink(path_.c_str());
}

int temp_file_writer::create(std::string_view header) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0)
    return errno;
  created_ = true;
  buf_.assign(header);
  return 0;
}

int temp_file_writer::add(std::string_view body) {
  append_record(buf_, body);
  return buf_.size() >= temp_flush_bytes ? flush() : 0;
}

int temp_file_writer::flush() {
  if (const int e = pwrite_full(fd_, buf_.data(), buf_.size(), written_))
    return e;
  written_ += buf_.size();
  buf_.clear();
  return 0;
}

int temp_file_writer::sync() {
  return fdatasync_retry(fd_);
}

int temp_file_writer::close() {
  const int fd = fd_;
  fd_ = -1;
  return ::close(fd) != 0 ? errno : 0;
}

// ---------------------------------------------------------------------------
// segment_writer

segment_writer::segment_writer(fs::path dir, uint64_t segment_bytes)
  : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}

segment_writer::~segment_writer() {
  if (fd_ >= 0)
    ::close(fd_);
}

void segment_writer::open(const fs::path& last, uint64_t good_end, uint64_t last_seq) {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  last_seq_ = synced_seq_ = last_seq;
  if (last.empty()) {
    if (std::string why = start_segment(); !why.empty())
      throw storage_error(why);
    return;
  }
  if (good_end < file_header_size)
    throw storage_error("cannot continue " + quoted(last) + " at offset " + std::to_string(good_end)
                        + ": that is inside its header (a bug: recovery should have removed it)");
  const int fd = ::open(last.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    throw storage_error("cannot open " + quoted(last) + " to append to it: " + errno_text(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    throw storage_error("cannot stat " + quoted(last) + ": " + errno_text(e));
  }
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size < good_end) {
    ::close(fd);
    throw storage_error(quoted(last) + " has " + std::to_string(size) + " bytes, fewer than the "
                        + std::to_string(good_end)
                        + " recovery read: is another process writing to the data folder?");
  }
  if (size > good_end) {
    // Drop a torn tail for good before appending after it: a tail left on
    // disk would sit between good records and read as corruption.
    int e = ftruncate_retry(fd, good_end);
    if (!e)
      e = fdatasync_retry(fd);
    if (e) {
      ::close(fd);
      throw storage_error("cannot cut " + quoted(last) + " back to " + std::to_string(good_end)
                          + " bytes: " + errno_text(e));
    }
  }
  fd_ = fd;
  path_ = last;
  offset_ = synced_ = good_end;
  // A full segment with no record cannot be rolled (its successor would get
  // the same name); it simply takes a few records more.
  if (full() && offset_ > file_header_size)
    if (std::string why = roll(); !why.empty())
      throw storage_error(why);
}

std::string segment_writer::write(std::string_view records, uint64_t last_seq) {
  if (fd_ < 0)
    return "the event log is not open (" + quoted(dir_) + ")";
  if (records.empty())
    return {};
  const int e = pwrite_full(fd_, records.data(), records.size(), offset_);
  if (e == 0) {
    offset_ += records.size();
    last_seq_ = last_seq;
    return {};
  }
  std::string why = "cannot append " + std::to_string(records.size()) + " bytes to " + quoted(path_)
                    + " at offset " + std::to_string(offset_) + ": " + errno_text(e);
  if (const int t = ftruncate_retry(fd_, offset_))
    why += "; cutting the partial write off failed too: " + errno_text(t);
  return why;
}

std::string segment_writer::sync() {
  if (fd_ < 0)
    return "the event log is not open (" + quoted(dir_) + ")";
  if (const int e = fdatasync_retry(fd_))
    return "cannot fdatasync " + quoted(path_) + ": " + errno_text(e);
  synced_ = offset_;
  synced_seq_ = last_seq_;
  return {};
}

std::string segment_writer::truncate_to(uint64_t offset) {
  if (fd_ < 0)
    return "the event log is not open (" + quoted(dir_) + ")";
  if (const int e = ftruncate_retry(fd_, offset))
    return "cannot cut " + quoted(path_) + " back to " + std::to_string(offset)
           + " bytes: " + errno_text(e);
  offset_ = offset;
  if (offset_ <= synced_) {
    synced_ = offset_;
    last_seq_ = synced_seq_;
  }
  return {};
}

std::string segment_writer::roll() {
  if (fd_ < 0)
    return "the event log is not open (" + quoted(dir_) + ")";
  if (offset_ <= file_header_size)
    return {}; // nothing in it yet: keep using it
  if (std::string why = sync(); !why.empty())
    return why;
  return start_segment();
}

// Creates events-<last_seq_ + 1>.log with its header, durable (file and
// folder synced) before any record goes into it; on failure nothing changes.
std::string segment_writer::start_segment() {
  const fs::path path = segment_path(dir_, last_seq_ + 1);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    return "cannot create the segment " + quoted(path) + ": " + errno_text(errno);
  const std::string header = file_header(file_kind::segment, last_seq_);
  std::string why;
  if (const int e = pwrite_full(fd, header.data(), header.size(), 0))
    why = "cannot write the header of " + quoted(path) + ": " + errno_text(e);
  else if (const int s = fdatasync_retry(fd))
    why = "cannot fdatasync " + quoted(path) + ": " + errno_text(s);
  else
    why = sync_dir(dir_);
  if (!why.empty()) {
    ::close(fd);
    ::unlink(path.c_str());
    return why;
  }
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = fd;
  path_ = path;
  offset_ = synced_ = file_header_size;
  synced_seq_ = last_seq_;
  return {};
}

} // namespace lb::storage
