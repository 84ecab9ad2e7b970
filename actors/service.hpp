// Spawns and wires the actors of one leaderboard service, and stops them.
// The gateway (front/gateway.hpp) then drives them from the I/O thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "actors/front/schedules.hpp"
#include "actors/options.hpp"
#include "actors/outbox.hpp"
#include "actors/protocol.hpp"
#include "actors/storage/log_writer.hpp"
#include "actors/storage/recovery.hpp"
#include "actors/update_sink.hpp"

namespace lb::actors {

struct service {
  std::vector<shard_handle> shards;
  merge_handle merge;
  log_handle log;
  snapshot_handle snapshots;
  std::vector<reader_handle> readers;
  publisher_handle publisher; // none when the service publishes no updates
  update_link updates;        // how producers reach it (the gateway, for acks)

  // The log's writer, open where recovery left the log, until the gateway
  // takes it.
  std::unique_ptr<storage::log_writer> log_writer;
  // Where the event stream stands while no gateway runs (before it starts,
  // after it stopped): the last seq given out, and the next cut's id.
  uint64_t last_seq = 0;
  uint64_t next_cut = 1;
  // The boards' seasons and schedules as recovered, for the gateway.
  std::vector<season_seed> seasons;

  // Every actor, in the order stop() exits them.
  std::vector<caf::actor> all() const;

  // Cuts the stream at last_seq from outside a gateway and returns the
  // merged view of it, blocking until it is built. Right after start the
  // first one holds every recovered entry: wait for it before serving.
  view_ptr settled_view(caf::actor_system& sys, std::chrono::seconds timeout);
  // Writes a snapshot of everything ordered so far (a clean shutdown does,
  // so the next start replays nothing). Returns false, with the reason
  // logged, if it could not.
  bool snapshot(caf::actor_system& sys);
  // Exits every actor and waits until they are gone, so that their outboxes
  // (sockets) are closed before the caller tears the transport down.
  void stop(caf::actor_system& sys);
};

// Spawns the actors with the state recovered from opts.log.dir
// (storage/recovery.hpp) and opens the log's writer after it. Throws
// storage_error if the log cannot be opened. Without `make_sink` the service
// publishes no update streams (and does none of their work).
service start_service(caf::actor_system& sys, const service_options& opts,
                      const outbox_factory& make_outbox, storage::recovered_state recovered,
                      const update_sink_factory& make_sink = {});

} // namespace lb::actors
