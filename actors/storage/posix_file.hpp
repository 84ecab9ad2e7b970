// The POSIX calls under the storage layer (as LevelDB's util/env_posix.cc):
// each one is retried on EINTR, reads and writes go on until every byte has
// moved, and a failure comes back as a status naming the file ("cannot
// fdatasync <file>: Input/output error"). Reading, writing and syncing go
// through here; data_dir lists and deletes with std::filesystem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "actors/storage/status.hpp"

namespace lb::storage {

namespace fs = std::filesystem;

// An open file descriptor and the name it was opened under; the destructor
// closes it (close() to see an error).
class posix_file {
public:
  enum class mode {
    read,       // an existing file, read only
    write,      // an existing file, write only
    create_new, // a new file, write only; fails if the name is taken
    truncate,   // write only, created or emptied
    lock,       // read and write, created if missing (a lock file)
  };

  posix_file() = default;
  ~posix_file();
  posix_file(posix_file&& other) noexcept;
  posix_file& operator=(posix_file&& other) noexcept;
  posix_file(const posix_file&) = delete;
  posix_file& operator=(const posix_file&) = delete;

  static status open(const fs::path& path, mode m, posix_file& out);

  bool is_open() const { return fd_ >= 0; }
  const fs::path& path() const { return path_; }

  status size(uint64_t& out) const;
  // Reads up to `n` bytes at `offset` into `buf`; `got` < n only at the end
  // of the file.
  status read_at(uint64_t offset, char* buf, std::size_t n, std::size_t& got) const;
  // Writes every byte of `data` at `offset`.
  status write_at(uint64_t offset, std::string_view data);
  // fdatasync.
  status sync();
  status truncate(uint64_t size);
  // An exclusive flock, without waiting: sys_errno() is EWOULDBLOCK when
  // another process holds it.
  status lock();
  status close();

private:
  fs::path path_;
  int fd_ = -1;
};

// fsyncs a folder, so that a name created, renamed or deleted in it lasts.
status sync_dir(const fs::path& dir);

status remove_file(const fs::path& file);

// A file written front to back under a temporary name and then renamed to
// its final one (a snapshot, a segment rewritten by --repair): under the
// final name there is always a whole file, the old or the new. Bytes gather
// in memory and go out about 1 MiB at a time: few system calls, bounded
// memory. Unless commit() renamed it, the destructor removes the temporary,
// so an error anywhere (a bad_alloc included) leaves nothing behind.
class temp_file {
public:
  temp_file() = default;
  ~temp_file();
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  // Creates `temp` (emptying a leftover of that name), to become `final`.
  status create(fs::path temp, fs::path final);
  // Queues bytes; writes what has gathered once it is large.
  status append(std::string_view bytes);
  // Writes what is queued, fdatasyncs and closes the file, renames it to the
  // final name and fsyncs the folder. With `keep_old_as`, the file the final
  // name held first gets that second name: a crash at any point leaves the
  // final name holding the old file or the new one, never nothing.
  status commit(const fs::path& keep_old_as = {});

  const fs::path& final_path() const { return final_; }
  // Bytes appended so far.
  uint64_t size() const { return size_; }
  // Whether the file has its final name (commit() got past the rename).
  bool in_place() const { return in_place_; }

private:
  status flush();

  posix_file file_;
  fs::path temp_;
  fs::path final_;
  std::string buf_;
  uint64_t written_ = 0;
  uint64_t synced_ = 0; // bytes fdatasynced so far
  uint64_t size_ = 0;
  bool in_place_ = false;
};

} // namespace lb::storage
