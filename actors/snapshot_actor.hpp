// The snapshot actor writes merged views to disk as snapshots
// (actors/storage/snapshot_file.hpp), keeps the newest two, and deletes the
// log segments they make unneeded. Two, so that a damaged newest snapshot
// still leaves an older one plus the log to recover from.
//
// The service runs it detached: writing millions of entries and fsyncing
// takes seconds, which must not hold a scheduler thread. The merge actor
// asks for a snapshot when one is due and never asks twice at once.
//
// A failed snapshot (a full disk, a read-only folder) backs off: the merge
// actor's requests are turned down without touching the disk until the
// backoff (snapshot_backoff) has passed, however many cuts and events come
// meanwhile, so a disk that fails every attempt costs one log line per
// attempt, and the attempts thin out to one a minute. Any other request
// (the service's snapshot at a clean stop) is always tried.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include <caf/all.hpp>

#include "actors/protocol.hpp"

namespace lb::actors {

// When a snapshot may be tried again after failures: `first` after the
// first one, doubling with each further one up to `most`; a success starts
// over. A plain value, so that tests can walk its schedule.
struct snapshot_backoff {
  using clock = std::chrono::steady_clock;

  std::chrono::milliseconds first{1000};
  std::chrono::milliseconds most{60000};
  uint32_t failures = 0;  // since the last success
  clock::time_point next; // no attempt before this (when failures > 0)

  // Whether an attempt at `now` is allowed.
  bool may_try(clock::time_point now) const { return failures == 0 || now >= next; }
  // The wait after the `n`th failure in a row (n >= 1).
  std::chrono::milliseconds delay(uint32_t n) const;
  // An attempt at `now` failed: returns the wait before the next one.
  std::chrono::milliseconds failed(clock::time_point now);
  void succeeded() { failures = 0; }
};

// The line for a failed attempt: what failed, that the log still holds every
// event, and when the next attempt comes (`wait` from now, `next_wall_ms` on
// the wall clock).
std::string snapshot_failure_line(uint64_t seq, const std::string& why, uint32_t failures,
                                  std::chrono::milliseconds wait, int64_t next_wall_ms);

struct snapshot_state {
  std::filesystem::path dir;
  bool retain = false;    // keep the log segments a snapshot covers
  caf::actor_addr due_by; // the merge actor: its requests back off
  snapshot_backoff backoff;
  static const char* name;
};

// Answers a view_ptr with the seq of the snapshot written, or an error.
// Requests from `due_by` (the merge actor's periodic snapshots) are turned
// down while a failure's backoff lasts.
snapshot_handle::behavior_type
snapshot_actor(snapshot_handle::stateful_pointer<snapshot_state> self, std::filesystem::path dir,
               bool retain, caf::actor_addr due_by);

} // namespace lb::actors
