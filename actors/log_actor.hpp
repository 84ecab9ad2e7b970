// The log actor: the one writer of the event log, and the gate every event
// passes before a shard applies it.
//
// The ingress hands it each flush as one log_append: the flush's events,
// framed once in seq order, every shard's slice of the stream, and the
// replies that only the ingress can give (configure). The log actor writes
// the events as they come, makes them
// durable under the fsync policy, and only then forwards each shard its
// work and releases the held replies. So a reply, and an ingest event's
// effect on any rank, is never seen before its record is on disk (PROTOCOL.md
// "Events"), and a shard never holds an event the log lacks.
//
// Group commit: while one fdatasync runs, further appends queue in the
// mailbox; the next commit covers all of them. A commit happens when the
// mailbox is empty, when `group_bytes` are waiting, or `group_window` after
// the first waiting append, whichever comes first.
//
// When the disk refuses a write (full, quota, I/O error), the append's events
// are refused: nothing of them stays in the file, no shard sees them, and
// every waiting client gets `overloaded`. The ops that are not events
// (freeze markers, configuration checks) still go to the shards in order.
//
// The service runs it detached (its own thread): fdatasync blocks, and must
// not hold a scheduler thread that shards need.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/outbox.hpp"
#include "actors/protocol.hpp"
#include "actors/storage/log_writer.hpp"

namespace lb::actors {

struct log_state {
  log_options opts;
  std::shared_ptr<storage::log_writer> writer;
  std::vector<shard_handle> shards;
  ingress_handle ingress;
  merge_handle merge;
  std::unique_ptr<outbox> out;

  // Written, waiting for the commit that makes them durable.
  std::vector<log_append> waiting;
  uint64_t waiting_bytes = 0;
  uint64_t waiting_last_seq = 0;
  bool timer_armed = false;

  schemas::log_stats counters;
  std::chrono::steady_clock::time_point last_complaint{};

  static const char* name;
};

// The writer comes opened (recovery knows where the log ends).
// `durable_seq`: the last event recovered (from the log or a snapshot).
log_handle::behavior_type log_actor(log_handle::stateful_pointer<log_state> self, log_options opts,
                                    std::shared_ptr<storage::log_writer> writer,
                                    uint64_t durable_seq, std::vector<shard_handle> shards,
                                    outbox_factory make_outbox);

} // namespace lb::actors
