#include "transport/client.hpp"

namespace lb::transport {

request_client::request_client(zmq::context_t& ctx, const std::string& endpoint)
  : sock_(ctx, zmq::socket_type::dealer) {
  sock_.set(zmq::sockopt::linger, 0);
  sock_.connect(endpoint);
}

void request_client::send(std::string_view body) {
  (void) sock_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
}

std::optional<std::string> request_client::receive(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0)
    return std::nullopt;
  zmq::message_t msg;
  if (!sock_.recv(msg, zmq::recv_flags::dontwait))
    return std::nullopt;
  // A DEALER sees only the body: the service echoes no extra envelope frames
  // to it unless the client sent some, and this client sends none.
  return msg.to_string();
}

std::optional<std::string> request_client::call(std::string_view body,
                                                 std::chrono::milliseconds timeout) {
  send(body);
  return receive(timeout);
}

ingest_client::ingest_client(zmq::context_t& ctx, const std::string& endpoint)
  : sock_(ctx, zmq::socket_type::push) {
  sock_.set(zmq::sockopt::linger, 2000); // let queued events go out on close
  sock_.connect(endpoint);
}

void ingest_client::send(std::string_view body) {
  (void) sock_.send(zmq::buffer(body.data(), body.size()), zmq::send_flags::none);
}

} // namespace lb::transport
