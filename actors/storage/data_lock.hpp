// One service per data folder: two writers appending to one log would
// interleave records and break the seq order that recovery relies on.
#pragma once

#include <filesystem>

namespace lb::storage {

// Holds an exclusive flock on <dir>/LOCK for the life of the object.
class data_lock {
public:
  // Throws storage_error naming the folder when another process holds it.
  explicit data_lock(const std::filesystem::path& dir);
  ~data_lock();
  data_lock(const data_lock&) = delete;
  data_lock& operator=(const data_lock&) = delete;

private:
  int fd_ = -1;
};

} // namespace lb::storage
