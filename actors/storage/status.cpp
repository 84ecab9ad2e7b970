#include "actors/storage/status.hpp"

#include <cstring>
#include <utility>

namespace lb::storage {

status status::error(std::string message) {
  status s;
  s.failed_ = true;
  s.message_ = std::move(message);
  return s;
}

status status::from_errno(const std::string& what, int err) {
  status s = error(what + ": " + errno_text(err));
  s.errno_ = err;
  return s;
}

status status::noted(const std::string& more) const {
  status s = *this;
  s.message_ += more;
  return s;
}

std::string errno_text(int err) {
  return std::strerror(err);
}

storage_error::storage_error(status why)
  : std::runtime_error(why.message()), cause_(std::move(why)) {}

void throw_if_error(const status& s) {
  if (!s.ok())
    throw storage_error(s);
}

} // namespace lb::storage
