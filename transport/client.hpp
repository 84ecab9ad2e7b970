// Client sockets for tools and tests: a DEALER for requests (it may pipeline;
// replies carry the request's `id`) and a PUSH for fire-and-forget ingest.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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

} // namespace lb::transport
