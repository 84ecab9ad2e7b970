// The log actor: makes the event log durable behind the gateway's writes.
//
// The gateway, on the I/O thread, writes each round's events to the log
// itself before any shard sees them (a write the disk refuses refuses the
// events). Under --fsync=group or always it then sends a sync_request; once
// the fdatasync returns, the log actor tells the gateway how far the log is
// durable, and the gateway releases the replies that wait for it (outbox
// gates). So shards apply events as soon as they are written, while no reply
// shows an event before it is on disk (PROTOCOL.md "Events").
//
// Group commit (group): while one fdatasync runs, further requests queue in
// the mailbox, and the next fdatasync covers all of them: one is made when
// the mailbox is empty, or `group_window` after the first waiting request.
// always: one fdatasync per request, as it comes.
//
// A failed fdatasync leaves the kernel free to have dropped the written
// pages: the events since the last good sync can be neither trusted nor
// taken back from the shards that applied them. The service then stops
// (exit code 1) without acknowledging them, as PostgreSQL does; a restart
// recovers what is on disk.
//
// The service runs it detached (its own thread): fdatasync blocks.
#pragma once

#include <cstdint>
#include <memory>

#include <caf/all.hpp>

#include "actors/outbox.hpp"
#include "actors/protocol.hpp"

namespace lb::actors {

struct log_state {
  log_options opts;
  std::unique_ptr<outbox> out;
  std::shared_ptr<storage::posix_file> file; // the segment of the latest request
  uint64_t wanted = 0;                       // the highest seq asked for
  uint64_t durable = 0;
  uint64_t syncs = 0;
  bool timer_armed = false;

  static const char* name;
};

// `durable_seq`: the last event recovered (from the log or a snapshot).
log_handle::behavior_type log_actor(log_handle::stateful_pointer<log_state> self, log_options opts,
                                    uint64_t durable_seq, outbox_factory make_outbox);

} // namespace lb::actors
