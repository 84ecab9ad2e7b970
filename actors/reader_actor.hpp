// A reader actor answers the queries that only need the merged view (`top`,
// `boards`, `ping`, `stats`) and gathers friends lists (`ranks`) from the
// shards that own the players. Several readers share the load; each holds
// the latest view by pointer.
#pragma once

#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "actors/messages.hpp"
#include "actors/outbox.hpp"

namespace lb::actors {

struct reader_state {
  std::vector<caf::actor> shards;
  std::unique_ptr<outbox> out;
  view_ptr view;
  std::chrono::steady_clock::time_point started;

  static const char* name;

  void reply(const reply_to& to, const schemas::reply_body& body);
};

caf::behavior reader_actor(caf::stateful_actor<reader_state>* self,
                           std::vector<caf::actor> shards, outbox_factory make_outbox);

} // namespace lb::actors
