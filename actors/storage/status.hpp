// How the storage layer reports failure: every function of it that can fail
// returns a status, ok or a message for the operator that names the file,
// the offset where it matters, and what to do (as LevelDB's Status does).
//
// An exception, always storage_error carrying such a status, is used only
// where a status has no way out:
// - data_lock's constructor: an object that exists holds the lock;
// - append_record, for a body outside 1..max_record_body: a bug of its
//   caller (no event or snapshot record comes near that size), met deep
//   inside the gateway's round, which has no error path (the snapshot writer turns
//   it into its status);
// - throw_if_error, for callers whose own error path is an exception
//   (lb-replay's commands, the service's start).
#pragma once

#include <stdexcept>
#include <string>

namespace lb::storage {

class [[nodiscard]] status {
public:
  // Ok.
  status() = default;

  // A failure described by `message`.
  static status error(std::string message);
  // A failed system call: "`what`: <the system's text for err>".
  static status from_errno(const std::string& what, int err);

  // The same failure with `more` appended to its message; the errno stays.
  status noted(const std::string& more) const;

  bool ok() const { return !failed_; }
  // Empty when ok.
  const std::string& message() const { return message_; }
  // The errno of a failed system call; 0 otherwise.
  int sys_errno() const { return errno_; }

private:
  bool failed_ = false;
  std::string message_;
  int errno_ = 0;
};

// The system's text for an errno value.
std::string errno_text(int err);

struct storage_error : std::runtime_error {
  explicit storage_error(status why);
  const status& cause() const { return cause_; }

private:
  status cause_;
};

// Throws storage_error unless `s` is ok.
void throw_if_error(const status& s);

} // namespace lb::storage
