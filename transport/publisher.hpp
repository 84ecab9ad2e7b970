// The `updates` socket (PROTOCOL.md section 5): an XPUB (a PUB to its
// subscribers, which also tells who subscribes to what), bound at start so
// that a busy endpoint is reported before the service runs, then used by one
// thread at a time (the publisher actor's; ZeroMQ sockets are not
// thread-safe).
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "transport/access.hpp"

namespace lb::transport {

// A subscription is a topic prefix: a board and a player at most, and the
// few bytes around them. Anything larger drops the subscriber (ZeroMQ's
// ZMQ_MAXMSGSIZE), so one message cannot take the service's memory.
inline constexpr int64_t max_subscription_bytes = 512;

class update_publisher {
public:
  // `hwm`: messages queued per subscriber (ZMQ_SNDHWM) before ZeroMQ drops
  // that subscriber's new ones, so a subscriber that never reads costs at
  // most that much memory and never slows the others. Throws
  // std::runtime_error naming the endpoint if it cannot bind. `guard`
  // admits the subscribers (any role) and counts them.
  update_publisher(zmq::context_t& ctx, const std::string& endpoint, int hwm, gatekeeper& guard);

  // The actual endpoint (a port of `*` or 0 is resolved).
  std::string endpoint() const;

  // Two frames, topic and body. Never blocks; false if ZeroMQ refused the
  // message (what it drops past a subscriber's high-water mark it does not
  // report).
  bool send(std::string_view topic, std::string_view body);

  struct subscription_state {
    std::vector<std::string> prefixes; // subscribed to now, each once
    std::vector<std::string> joined;   // got a new subscriber since the last call
  };
  // Reads the subscription messages that arrived since the last call.
  subscription_state subscriptions();

private:
  zmq::socket_t pub_;
  std::set<std::string> prefixes_;
};

} // namespace lb::transport
