// The service's sockets and the one thread that uses them (ZeroMQ sockets
// are not thread-safe): ROUTER `requests`, PULL `ingest`, and an inproc PULL
// on which actors push their messages (batches of replies, which the layer
// above reads). The I/O thread polls all three and drains each in bursts,
// so frames reach the layer above in batches.
#pragma once

#include <atomic>
#include <chrono>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <zmq.hpp>

namespace lb::transport {

struct server_options {
  std::string requests = "tcp://127.0.0.1:7400";
  std::string ingest = "tcp://127.0.0.1:7401";
  size_t max_frame = 1 << 20; // larger frames drop the connection (ZMQ_MAXMSGSIZE)
  int burst = 512;            // frames taken from one socket before looking at the others
};

// Binds `s` to `ep`; throws std::runtime_error naming the socket (`what`)
// and the endpoint, which is what a person needs to pick another one.
void bind_or_throw(zmq::socket_t& s, const std::string& ep, const char* what);

// What the layer above does with frames. All are called on the I/O thread,
// which is also the only one that may call server::send.
struct server_handlers {
  std::function<void(std::string_view route, std::string_view body)> on_request;
  std::function<void(std::string_view body)> on_ingest;
  // One message an actor pushed through a reply_socket.
  std::function<void(std::string_view body)> on_internal;
  std::function<void()> on_drained; // after each round over the sockets
  std::function<bool()> ingest_paused;
  // How long to wait for frames at most (the layer above has timed work).
  std::function<std::chrono::milliseconds()> poll_timeout;
};

// A PUSH socket into the server's reply queue. Give each actor its own: a
// socket may move between threads with the actor but is never shared.
class reply_socket {
public:
  reply_socket(zmq::context_t& ctx, const std::string& endpoint);
  // One message, opaque to the transport (on_internal gets it whole).
  void send(std::string_view body);

private:
  zmq::socket_t push_;
};

class server {
public:
  // Binds every socket; throws std::runtime_error naming the endpoint that failed.
  server(zmq::context_t& ctx, server_options opts);
  ~server();

  // Actual endpoints (a port of `*` or 0 is resolved).
  std::string requests_endpoint() const;
  std::string ingest_endpoint() const;
  // Where reply_sockets connect.
  const std::string& reply_endpoint() const { return reply_ep_; }

  // The I/O loop; returns within ~100 ms of `stop` becoming true. Closes the
  // sockets on the way out, on this thread.
  void run(server_handlers& h, const std::atomic<bool>& stop);
  // Sends a reply on the requests socket: the route's frames, then the body.
  // Only on the I/O thread (from a handler).
  void send(std::string_view route, std::string_view body);

private:
  zmq::context_t& ctx_;
  server_options opts_;
  std::string reply_ep_;
  zmq::socket_t router_;
  zmq::socket_t ingest_;
  zmq::socket_t replies_;
};

} // namespace lb::transport
