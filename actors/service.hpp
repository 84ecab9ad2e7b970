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
#include "actors/recovery.hpp"

namespace lb::actors {

struct service_options {
  uint32_t shards = 2;
  uint32_t readers = 2;
  std::chrono::milliseconds merge_interval{50};
  log_options log;
  snapshot_policy snapshot;
};

struct service {
  caf::actor ingress;
  caf::actor merge;
  caf::actor log;
  caf::actor snapshots;
  std::vector<caf::actor> shards;
  std::vector<caf::actor> readers;

  // The merged view of everything ordered so far. Blocks until it is built.
  view_ptr settled_view(caf::actor_system& sys, std::chrono::seconds timeout);
  // Writes a snapshot of everything ordered so far (a clean shutdown does,
  // so the next start replays nothing). Returns false, with the reason
  // printed, if it could not.
  bool snapshot(caf::actor_system& sys);
  // Exits every actor and waits until they are gone, so that their outboxes
  // (sockets) are closed before the caller tears the transport down.
  void stop(caf::actor_system& sys);
};

// Recovers the state under opts.log.dir (recovery.hpp; throws storage_error),
// then starts the actors with it and waits for the first merged view, so
// that the first request already sees every recovered entry.
service start_service(caf::actor_system& sys, const service_options& opts,
                      const outbox_factory& make_outbox, recovered_state recovered);

} // namespace lb::actors
