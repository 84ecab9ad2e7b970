#include "transport/publisher.hpp"

#include "transport/server.hpp"

namespace lb::transport {

update_publisher::update_publisher(zmq::context_t& ctx, const std::string& endpoint, int hwm)
  : pub_(ctx, zmq::socket_type::pub) {
  pub_.set(zmq::sockopt::linger, 0);
  pub_.set(zmq::sockopt::sndhwm, hwm); // before bind: pipes take it when created
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
    return pub_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::dontwait)
      .has_value();
  } catch (const zmq::error_t&) {
    return false; // the context is closing: the service is stopping
  }
}

} // namespace lb::transport
