#include "transport/client.hpp"

#include <algorithm>
#include <iterator>

#include <zmq_addon.hpp>

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

update_subscriber::update_subscriber(zmq::context_t& ctx, const std::string& endpoint,
                                     const std::vector<std::string>& prefixes, int rcvhwm)
  : sock_(ctx, zmq::socket_type::sub) {
  sock_.set(zmq::sockopt::linger, 0);
  sock_.set(zmq::sockopt::rcvhwm, rcvhwm);
  for (const auto& p : prefixes)
    sock_.set(zmq::sockopt::subscribe, p);
  sock_.connect(endpoint);
}

std::optional<update_message> update_subscriber::receive(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    zmq::pollitem_t item{sock_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::max(left, std::chrono::milliseconds(0))) <= 0)
      return std::nullopt;
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(sock_, std::back_inserter(frames), zmq::recv_flags::dontwait))
      return std::nullopt;
    if (frames.size() == 2)
      return update_message{frames[0].to_string(), frames[1].to_string()};
  }
}

} // namespace lb::transport
