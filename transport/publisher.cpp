#include "transport/publisher.hpp"

#include "transport/server.hpp"

namespace lb::transport {

update_publisher::update_publisher(zmq::context_t& ctx, const std::string& endpoint, int hwm,
                                   gatekeeper& guard)
  : pub_(ctx, zmq::socket_type::xpub) {
  pub_.set(zmq::sockopt::linger, 0);
  pub_.set(zmq::sockopt::sndhwm, hwm); // before bind: pipes take it when created
  pub_.set(zmq::sockopt::maxmsgsize, max_subscription_bytes);
  // Every subscriber's subscription comes up, not only a prefix's first:
  // each new follower of a follow/ topic is sent the current state.
  pub_.set(zmq::sockopt::xpub_verbose, 1);
  guard.guard(pub_, "updates");
  bind_or_throw(pub_, endpoint, "updates");
}

std::string update_publisher::endpoint() const {
  return pub_.get(zmq::sockopt::last_endpoint);
}

bool update_publisher::send(std::string_view topic, std::string_view body) {
  try {
    if (!pub_.send(zmq::buffer(topic.data(), topic.size()),
                   zmq::send_flags::sndmore | zmq::send_flags::dontwait))
      return false;
    return pub_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false; // the context is closing: the service is stopping
  }
}

update_publisher::subscription_state update_publisher::subscriptions() {
  // ZMQ_XPUB_VERBOSE passes on every subscription, but still only the last
  // unsubscription from a prefix (ZMQ_XPUB_VERBOSER would pass them all), so
  // the set of prefixes stays exact. Each message is one byte (1:
  // subscribe, 0: unsubscribe) and the prefix.
  subscription_state out;
  std::set<std::string> joined;
  zmq::message_t m;
  try {
    while (pub_.recv(m, zmq::recv_flags::dontwait)) {
      if (m.size() == 0)
        continue;
      auto* data = static_cast<const char*>(m.data());
      std::string prefix(data + 1, m.size() - 1);
      if (data[0] == 1) {
        joined.insert(prefix);
        prefixes_.insert(std::move(prefix));
      } else if (data[0] == 0) {
        joined.erase(prefix);
        prefixes_.erase(prefix);
      }
    }
  } catch (const zmq::error_t&) {
    // The context is closing: the service is stopping; keep the last set.
  }
  out.prefixes.assign(prefixes_.begin(), prefixes_.end());
  out.joined.assign(joined.begin(), joined.end());
  return out;
}

} // namespace lb::transport
