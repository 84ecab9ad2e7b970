#include "actors/storage/data_dir.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>

#include "actors/storage/log_format.hpp"

namespace lb::storage {

namespace {

constexpr std::string_view segment_prefix = "events-";
constexpr std::string_view segment_suffix = ".log";
constexpr std::string_view snapshot_prefix = "snapshot-";
constexpr std::string_view snapshot_suffix = ".snap";
constexpr std::string_view snapshot_temp_suffix = ".tmp"; // after the snapshot's name
constexpr std::string_view repair_temp_suffix = ".repair.tmp";
constexpr std::string_view damaged_suffix = ".damaged";
constexpr std::size_t seq_digits = 20;

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

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void sort_by_seq(std::vector<file_info>& files) {
  std::sort(files.begin(), files.end(),
            [](const file_info& a, const file_info& b) { return a.seq < b.seq; });
}

// Deletes `file`; on failure adds "could not delete <what>: <why>" to
// `failures`. Returns whether it was deleted.
bool delete_file(const fs::path& file, const std::string& what, std::string& failures) {
  std::error_code ec;
  const bool removed = fs::remove(file, ec);
  if (ec)
    failures += (failures.empty() ? "" : "; ") + ("could not delete " + what) + ": " + ec.message();
  return removed;
}

// The deletions' failures and the folder's fsync as one status.
status after_deleting(const fs::path& dir, bool sync, const std::string& failures) {
  std::string why = failures;
  if (sync)
    if (status st = sync_dir(dir); !st.ok())
      why += (why.empty() ? "" : "; ") + st.message();
  return why.empty() ? status() : status::error(why);
}

status create_temp(const fs::path& final, std::string_view suffix, file_kind kind, uint64_t seq,
                   temp_file& out) {
  fs::path temp = final;
  temp += suffix;
  if (status st = out.create(temp, final); !st.ok())
    return st;
  return out.append(file_header(kind, seq));
}

} // namespace

fs::path segment_path(const fs::path& dir, uint64_t first_seq) {
  return dir / file_name(segment_prefix, first_seq, segment_suffix);
}

fs::path snapshot_path(const fs::path& dir, uint64_t seq) {
  return dir / file_name(snapshot_prefix, seq, snapshot_suffix);
}

fs::path damaged_path(const fs::path& segment) {
  fs::path p = segment;
  p += damaged_suffix;
  for (int i = 1; fs::exists(p); ++i) {
    p = segment;
    p += std::string(damaged_suffix) + "." + std::to_string(i);
  }
  return p;
}

status list_files(const fs::path& dir, data_files& out) {
  out = data_files();
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory)
    return {};
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().native();
    uint64_t seq = 0;
    if (parse_name(name, segment_prefix, segment_suffix, seq))
      out.segments.push_back({it->path(), seq});
    else if (parse_name(name, snapshot_prefix, snapshot_suffix, seq))
      out.snapshots.push_back({it->path(), seq});
  }
  if (ec)
    return status::error("cannot list " + dir.string() + ": " + ec.message());
  sort_by_seq(out.segments);
  sort_by_seq(out.snapshots);
  return {};
}

data_lock::data_lock(const fs::path& dir) {
  const fs::path path = dir / "LOCK";
  throw_if_error(posix_file::open(path, posix_file::mode::lock, file_));
  if (status st = file_.lock(); !st.ok()) {
    if (st.sys_errno() == EWOULDBLOCK)
      st = status::error("another process uses the data folder " + dir.string() + " (it holds "
                         + path.string() + "); stop it or pick another folder with --data=DIR");
    throw storage_error(st);
  }
}

status delete_covered_segments(const fs::path& dir, uint64_t seq, const fs::path& writing) {
  data_files files;
  if (status st = list_files(dir, files); !st.ok())
    return st;
  const auto& segments = files.segments;
  std::string failures;
  bool removed = false;
  for (std::size_t i = 0; i + 1 < segments.size(); ++i) {
    // Segment i holds seqs before the next one's first seq.
    if (segments[i + 1].seq > seq + 1 || segments[i].path == writing)
      break;
    removed |= delete_file(segments[i].path, segments[i].path.string() + " (covered by a snapshot)",
                           failures);
  }
  return after_deleting(dir, removed, failures);
}

status prune_snapshots(const fs::path& dir, std::optional<uint64_t>& covered) {
  covered.reset();
  data_files files;
  if (status st = list_files(dir, files); !st.ok())
    return st;
  const auto& snaps = files.snapshots;
  if (snaps.size() < 2)
    return {};
  std::string failures;
  for (std::size_t i = 0; i + 2 < snaps.size(); ++i)
    delete_file(snaps[i].path, "the old snapshot " + snaps[i].path.string(), failures);
  covered = snaps[snaps.size() - 2].seq;
  return after_deleting(dir, true, failures);
}

status create_snapshot_temp(const fs::path& dir, uint64_t seq, temp_file& out) {
  return create_temp(snapshot_path(dir, seq), snapshot_temp_suffix, file_kind::snapshot, seq, out);
}

status create_repair_temp(const fs::path& segment, uint64_t header_seq, temp_file& out) {
  return create_temp(segment, repair_temp_suffix, file_kind::segment, header_seq, out);
}

status remove_leftover_temps(const fs::path& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec == std::errc::no_such_file_or_directory)
    return {};
  std::string failures;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec))
    if (ends_with(it->path().filename().native(),
                  std::string(snapshot_suffix) + std::string(snapshot_temp_suffix)))
      delete_file(it->path(), it->path().string() + " (a snapshot a crash left unfinished)",
                  failures);
  if (ec)
    failures += (failures.empty() ? "" : "; ") + ("cannot list " + dir.string()) + ": "
                + ec.message();
  return failures.empty() ? status() : status::error(failures);
}

} // namespace lb::storage
