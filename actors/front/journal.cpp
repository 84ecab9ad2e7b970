#include "actors/front/journal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include <caf/all.hpp>

#include "actors/logger.hpp"

namespace lb::actors {

namespace {

// As the log actor does for its fdatasync (log_actor.hpp): the pages since
// the last good sync may be gone, and shards have applied their events.
[[noreturn]] void stop_after_failed_sync(const storage::status& why) {
  logger::problem("fdatasync of the event log failed: " + why.message()
                  + "; stopping, since the events since the last good sync can no longer be "
                    "trusted (none of them was acknowledged; a restart recovers what is on disk)");
  std::_Exit(1);
}

} // namespace

std::string log_trouble_advice(int err, const std::filesystem::path& dir) {
  const std::string d = dir.string();
  switch (err) {
    case ENOSPC:
      return "free disk space on the file system of " + d;
    case EDQUOT:
      return "the disk quota is used up: free space under " + d + " or raise the quota";
    case EMFILE:
      return "the service has run out of file descriptors: raise its open-file limit (ulimit -n, "
             "systemd LimitNOFILE=) or lower --max-clients";
    case ENFILE:
      return "the system has run out of file descriptors: raise fs.file-max or lower "
             "--max-clients";
    case EROFS:
      return d + " is on a read-only file system, so it is not writable: remount it read-write";
    case EACCES:
    case EPERM:
      return d + " is not writable by the service's user: fix its permissions or owner";
    case EFBIG:
      return "a file-size limit was reached (ulimit -f, systemd LimitFSIZE=): raise it or lower "
             "--segment-bytes";
    case EIO:
      return "the device reported an I/O error: check it (dmesg) before trusting it further";
    default:
      return "check the data folder " + d;
  }
}

std::string refused_write_line(const storage::status& why, uint64_t refused_so_far,
                               const std::filesystem::path& dir) {
  return "writing the event log failed: " + why.message()
         + "; events are refused with `overloaded` until a write succeeds ("
         + std::to_string(refused_so_far) + " refused so far); "
         + log_trouble_advice(why.sys_errno(), dir);
}

std::string failed_roll_line(const storage::status& why, const std::filesystem::path& dir) {
  return "could not start a new log segment: " + why.message()
         + "; events are still accepted, written on into the current segment past "
           "--segment-bytes (a new one is tried again at most once a second); "
         + log_trouble_advice(why.sys_errno(), dir);
}

journal::journal(log_options opts, std::unique_ptr<storage::log_writer> writer,
                 uint64_t durable_seq, log_handle log)
  : opts_(std::move(opts)), writer_(std::move(writer)), log_(std::move(log)) {
  stats_.fsync = to_string(opts_.policy);
  stats_.durable_seq = durable_seq;
}

storage::status journal::write(const storage::event_batch& events) {
  if (events.empty())
    return {};
  if (auto st = writer_->write(events.records(), events.last_seq()); !st.ok()) {
    stats_.refused += events.size();
    return st;
  }
  stats_.bytes += events.records().size();
  if (opts_.policy == fsync_policy::none) {
    stats_.durable_seq = events.last_seq();
  } else {
    std::shared_ptr<storage::posix_file> file;
    if (writer_->sync_handle(file).ok()) {
      caf::anon_send(log_, sync_request{std::move(file), events.last_seq()});
    } else {
      // No second descriptor (log_writer opens it with the segment, so this
      // is not expected): sync here, slower but as safe.
      if (auto st = writer_->sync(); !st.ok())
        stop_after_failed_sync(st);
      stats_.durable_seq = std::max(stats_.durable_seq, events.last_seq());
    }
  }
  if (writer_->full()) {
    // A segment is synced whole before the next one starts: a crash must
    // not leave a later segment whose predecessor lost its tail.
    if (auto st = writer_->sync(); !st.ok())
      stop_after_failed_sync(st);
    stats_.durable_seq = std::max(stats_.durable_seq, events.last_seq());
    // After a failure, try again a second later: a full disk fails every
    // attempt, and the operator needs one line, not thousands.
    auto now = std::chrono::steady_clock::now();
    if (now - last_roll_failure_ >= std::chrono::seconds(1))
      if (auto st = writer_->roll(); !st.ok()) {
        last_roll_failure_ = now;
        logger::problem(failed_roll_line(st, opts_.dir));
      }
  }
  return {};
}

void journal::on_durable(uint64_t seq, uint64_t syncs) {
  stats_.durable_seq = std::max(stats_.durable_seq, seq);
  stats_.syncs = syncs;
}

} // namespace lb::actors
