// The service's sockets and the one thread that uses them (ZeroMQ sockets
// are not thread-safe): ROUTER `requests`, PULL `ingest`, and an inproc PULL
// on which actors push their messages (batches of replies, which the layer
// above reads). The I/O thread polls all three and drains each in bursts,
// so frames reach the layer above in batches.
//
// Replies never block the loop and are never dropped in silence: the ROUTER
// queues at most `reply_hwm` messages per connection, and what a slow reader
// leaves past that waits here, in the connection's backlog, counted in
// bytes. The layer above sees each connection's backlog with its requests
// (request_meta) and refuses new work to one that does not read; a reply
// that would take a backlog past `max_backlog` is dropped and counted.
#pragma once

#include <atomic>
#include <chrono>

#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <zmq.hpp>

#include "transport/access.hpp"
#include "transport/counters.hpp"

namespace lb::transport {

struct server_options {
  std::string requests = "tcp://127.0.0.1:7400";
  std::string ingest = "tcp://127.0.0.1:7401";
  size_t max_frame = 1 << 20;    // larger frames drop the connection (ZMQ_MAXMSGSIZE)
  int burst = 512;               // frames taken from one socket before looking at the others
  int reply_hwm = 64;            // reply messages ZeroMQ queues per connection
  size_t max_backlog = 64 << 20; // reply bytes held per connection past reply_hwm
};

// What the layer above learns with a request besides its body.
struct request_meta {
  peer from;
  size_t backlog = 0; // reply bytes waiting for this connection to read
};

// Binds `s` to `ep`; throws std::runtime_error naming the socket (`what`)
// and the endpoint, which is what a person needs to pick another one.
void bind_or_throw(zmq::socket_t& s, const std::string& ep, const char* what);

// What the layer above does with frames. All are called on the I/O thread,
// which is also the only one that may call server::send.
struct server_handlers {
  std::function<void(std::string_view route, std::string_view body, const request_meta& meta)>
    on_request;
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
  // Binds every socket, guarded by `guard` (before it starts); throws
  // std::runtime_error naming the endpoint that failed.
  server(zmq::context_t& ctx, server_options opts, gatekeeper& guard, client_counters& counters);
  ~server();

  // Actual endpoints (a port of `*` or 0 is resolved).
  std::string requests_endpoint() const;
  std::string ingest_endpoint() const;
  // Where reply_sockets connect.
  const std::string& reply_endpoint() const { return reply_ep_; }

  // The I/O loop; returns within ~100 ms of `stop` becoming true. Closes the
  // sockets on the way out, on this thread.
  void run(server_handlers& h, const std::atomic<bool>& stop);
  // Sends a reply on the requests socket: the route's frames, then the body,
  // now or from the connection's backlog. Only on the I/O thread (from a
  // handler).
  void send(std::string_view route, std::string_view body);

private:
  struct backlog {
    std::deque<std::pair<std::string, std::string>> replies; // route, body
    size_t bytes = 0;
  };
  void queue(std::string_view identity, std::string_view route, std::string_view body);
  void send_backlogs();
  size_t backlog_of(std::string_view identity) const;

  zmq::context_t& ctx_;
  server_options opts_;
  std::string reply_ep_;
  zmq::socket_t router_;
  zmq::socket_t ingest_;
  zmq::socket_t replies_;
  client_counters& counters_;
  std::unordered_map<std::string, backlog> backlogs_; // by connection identity
};

} // namespace lb::transport
