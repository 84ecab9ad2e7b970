// Spawns and wires the actors of one leaderboard service, and stops them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "actors/log_actor.hpp"
#include "actors/merge_actor.hpp"
#include "actors/outbox.hpp"
#include "actors/storage/recovery.hpp"
#include "actors/update_sink.hpp"

namespace lb::actors {

struct service_options {
  uint32_t shards = 2;
  uint32_t readers = 2;
  std::chrono::milliseconds merge_interval{50};
  log_options log;
  snapshot_policy snapshot;
  uint32_t top_k = 10; // entries in a top/ update
  // Updates handed to the publisher and not yet written, past which
  // producers drop new ones (update_channel.hpp).
  uint64_t max_update_backlog = 100000;
};

struct service {
  caf::actor ingress;
  caf::actor merge;
  caf::actor log;
  caf::actor snapshots;
  std::vector<caf::actor> shards;
  std::vector<caf::actor> readers;
  caf::actor publisher; // none when the service publishes no updates

  // The merged view of everything ordered so far. Blocks until it is built.
  ranking::view_ptr settled_view(caf::actor_system& sys, std::chrono::seconds timeout);
  // Writes a snapshot of everything ordered so far (a clean shutdown does,
  // so the next start replays nothing). Returns false, with the reason
  // printed, if it could not.
  bool snapshot(caf::actor_system& sys);
  // Exits every actor and waits until they are gone, so that their outboxes
  // (sockets) are closed before the caller tears the transport down.
  void stop(caf::actor_system& sys);
};

// Starts the actors with the state recovered from opts.log.dir (recovery.hpp)
// and waits for the first merged view, so that the first request already
// sees every recovered entry. Throws storage_error if the log cannot be
// opened. Without `make_sink` the service publishes no update streams (and
// does none of their work).
service start_service(caf::actor_system& sys, const service_options& opts,
                      const outbox_factory& make_outbox, storage::recovered_state recovered,
                      const update_sink_factory& make_sink = {});

} // namespace lb::actors
