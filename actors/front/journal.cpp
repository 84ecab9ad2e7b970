#include "actors/front/journal.hpp"

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
    if (auto st = writer_->sync_handle(file); !st.ok())
      stop_after_failed_sync(st);
    caf::anon_send(log_, sync_request{std::move(file), events.last_seq()});
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
        logger::problem("could not start a new log segment: " + st.message()
                        + "; writing on into the full one");
      }
  }
  return {};
}

void journal::on_durable(uint64_t seq, uint64_t syncs) {
  stats_.durable_seq = std::max(stats_.durable_seq, seq);
  stats_.syncs = syncs;
}

} // namespace lb::actors
