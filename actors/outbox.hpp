// Where an actor's replies go. The actors never see a socket: the service
// wiring hands each replying actor its own outbox (in the daemon, a ZeroMQ
// PUSH socket that only that actor uses), so no two threads share one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "actors/protocol.hpp"
#include "schemas/reply.hpp"

namespace lb::actors {

class outbox {
public:
  virtual ~outbox() = default;
  // `route` is the opaque envelope that came with the request. An empty route
  // is a control message for the gateway (see gateway.hpp), never a reply.
  virtual void send(std::string_view route, std::string_view body) = 0;

  // Encodes `body` as the reply to `to` and sends it, if anybody waits.
  void reply(const reply_to& to, const schemas::reply_body& body) {
    if (to.wanted())
      send(to.route, schemas::encode_reply(to.id, body));
  }
  // Tells the gateway that ingest events are done with.
  void control(const ingest_applied& m) {
    if (m.events > 0)
      send({}, m.encode());
  }
};

using outbox_factory = std::function<std::unique_ptr<outbox>()>;

} // namespace lb::actors
