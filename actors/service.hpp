// Spawns and wires the actors of one leaderboard service, and stops them.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include <caf/all.hpp>

#include "actors/outbox.hpp"

namespace lb::actors {

struct service_options {
  uint32_t shards = 2;
  uint32_t readers = 2;
  std::chrono::milliseconds merge_interval{50};
};

struct service {
  caf::actor ingress;
  caf::actor merge;
  std::vector<caf::actor> shards;
  std::vector<caf::actor> readers;

  // Exits every actor and waits until they are gone, so that their outboxes
  // (sockets) are closed before the caller tears the transport down.
  void stop(caf::actor_system& sys);
};

service start_service(caf::actor_system& sys, const service_options& opts,
                      const outbox_factory& make_outbox);

} // namespace lb::actors
