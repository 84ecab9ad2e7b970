// The event log as the gateway writes it, on the I/O thread: each round's
// events go to the newest segment with one write before any shard sees them,
// so a disk that refuses the write refuses the events; making them durable
// is the log actor's (log_actor.hpp), which reports back through the outbox.
// With --fsync=none an event counts as durable once written.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "actors/options.hpp"
#include "actors/protocol.hpp"
#include "actors/storage/event_batch.hpp"
#include "actors/storage/log_writer.hpp"
#include "schemas/reply.hpp"

namespace lb::actors {

// What the operator is told (one line) when the disk refuses the write of a
// round's events (they are refused with `overloaded`; `refused_so_far`
// counts them), or when a new segment cannot be started (the events are
// still written, into the current segment): what failed with the system's
// text, what became of the events, and advice that fits the errno.
std::string refused_write_line(const storage::status& why, uint64_t refused_so_far,
                               const std::filesystem::path& dir);
std::string failed_roll_line(const storage::status& why, const std::filesystem::path& dir);
// The advice alone, for an errno met writing in `dir` (0: none known).
std::string log_trouble_advice(int err, const std::filesystem::path& dir);

class journal {
public:
  // `writer` comes open (recovery knows where the log ends); `durable_seq`
  // is the last event recovered.
  journal(log_options opts, std::unique_ptr<storage::log_writer> writer, uint64_t durable_seq,
          log_handle log);

  // Writes a round's events. On failure nothing of them stays in the file;
  // the status says why, and they count as refused.
  storage::status write(const storage::event_batch& events);
  // The log actor made the log durable up to `seq`.
  void on_durable(uint64_t seq, uint64_t syncs);

  uint64_t durable() const { return stats_.durable_seq; }
  const schemas::log_stats& stats() const { return stats_; }

private:
  log_options opts_;
  std::unique_ptr<storage::log_writer> writer_;
  log_handle log_;
  schemas::log_stats stats_;
  std::chrono::steady_clock::time_point last_roll_failure_{};
};

} // namespace lb::actors
