#include "actors/storage/data_lock.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "actors/storage/log_files.hpp"

namespace lb::storage {

data_lock::data_lock(const std::filesystem::path& dir) {
  auto path = dir / "LOCK";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw storage_error("cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    if (err == EWOULDBLOCK)
      throw storage_error("another process uses the data folder " + dir.string() + " (it holds "
                          + path.string() + "); stop it or pick another folder with --data=DIR");
    throw storage_error("cannot lock " + path.string() + ": " + std::strerror(err));
  }
}

data_lock::~data_lock() {
  if (fd_ >= 0)
    ::close(fd_);
}

} // namespace lb::storage
