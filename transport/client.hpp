// Client sockets for tools and tests: a DEALER for requests (it may pipeline;
// replies carry the request's `id`), a PUSH for fire-and-forget ingest and a
// SUB for the update streams.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

namespace lb::transport {

class request_client {
public:
  request_client(zmq::context_t& ctx, const std::string& endpoint);

  void send(std::string_view body);
  // The next reply body, or nothing if none came within `timeout`.
  std::optional<std::string> receive(std::chrono::milliseconds timeout);
  // send + receive.
  std::optional<std::string> call(std::string_view body, std::chrono::milliseconds timeout);

  zmq::socket_t& socket() { return sock_; }

private:
  zmq::socket_t sock_;
};

class ingest_client {
public:
  ingest_client(zmq::context_t& ctx, const std::string& endpoint);
  void send(std::string_view body);

private:
  zmq::socket_t sock_;
};

struct update_message {
  std::string topic;
  std::string body;
};

class update_subscriber {
public:
  // Subscribes to every prefix (PROTOCOL.md section 5: `top/<board>/`,
  // `rank/<board>/<player>`, `score/<board>/`; "" for everything).
  // `rcvhwm`: messages this side queues before ZeroMQ stops reading (0: no
  // limit; ZeroMQ's default is 1000).
  update_subscriber(zmq::context_t& ctx, const std::string& endpoint,
                    const std::vector<std::string>& prefixes, int rcvhwm = 1000);

  // The next message, or nothing within `timeout`. A message that is not a
  // topic and a body (never sent by the service) is skipped.
  std::optional<update_message> receive(std::chrono::milliseconds timeout);

  zmq::socket_t& socket() { return sock_; }

private:
  zmq::socket_t sock_;
};

} // namespace lb::transport
