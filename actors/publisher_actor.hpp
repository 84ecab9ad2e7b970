// The publisher actor: the only user of the update sink (the PUB socket,
// which is not thread-safe). It writes what shards and the merge actor
// encoded, in the order they sent it, and keeps the counters that `stats`
// reports. It never blocks: the sink drops what it cannot take, and
// producers stop handing it updates while its backlog is over the bound
// (see update_channel.hpp).
#pragma once

#include <memory>

#include <caf/all.hpp>

#include "actors/protocol.hpp"
#include "actors/update_channel.hpp"
#include "actors/update_sink.hpp"

namespace lb::actors {

struct publisher_state {
  std::unique_ptr<update_sink> sink;
  std::shared_ptr<update_counters> counters;

  static const char* name;

  void publish(const update_msg& m);
  // Asks the sink who subscribes to what and tells the producers.
  void poll_subscriptions();
  // `n` updates handed over by a producer are done (written or dropped).
  void done(uint64_t n);
};

publisher_handle::behavior_type
publisher_actor(publisher_handle::stateful_pointer<publisher_state> self,
                std::shared_ptr<update_counters> counters, update_sink_factory make_sink);

} // namespace lb::actors
